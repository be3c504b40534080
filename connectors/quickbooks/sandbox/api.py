"""The QBO v3 resource endpoints below ``/v3/company/{realmId}/``.

Cross-cutting concerns (authentication, throttling, minorversion, requestid replay, injected
faults) are applied by :mod:`.server` before a request gets here; this module maps a request to
a company operation and the operation's result to QBO's envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import autocredit, faults
from .company import ENTITIES, PATH_TO_ENTITY, Company
from .lists import PATH_TO_LIST
from .queryparse import parse
from .wire import Response, json_response, parse_datetime

JSON = dict[str, Any]

CDC_LOOKBACK = timedelta(days=30)
BATCH_MAX_ITEMS = 30


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # below /v3/company/{realm}/, without leading slash
    query: dict[str, str]
    body: bytes
    content_type: str


@dataclass
class ApiSettings:
    cdc_max_objects: int = 1000


def _json_body(body: bytes) -> JSON:
    try:
        data = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise faults.validation(
            "2010",
            "Request has invalid or unsupported property",
            f"Request body is not valid JSON: {exc}",
        ) from exc
    if not isinstance(data, dict):
        raise faults.invalid_value("Request body must be a JSON object")
    return data


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class QboApi:
    def __init__(self, company: Company, settings: ApiSettings) -> None:
        self.company = company
        self.settings = settings

    def handle(self, req: ApiRequest, *, force_stale: bool = False) -> Response:
        company = self.company
        try:
            with company.lock:
                payload = self._dispatch(req, force_stale=force_stale)
                if isinstance(payload, Response):
                    return payload  # already encoded (queries)
                return json_response(200, payload)
        except faults.QBOFault as fault:
            return fault.response(company.now(), company.tz)

    def _dispatch(self, req: ApiRequest, *, force_stale: bool) -> JSON | Response:
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            raise faults.unsupported_operation(f"{req.method} /")
        head = parts[0].lower()
        if head == "query" and len(parts) == 1:
            if req.method == "GET":
                text = req.query.get("query", "")
            elif req.method == "POST":
                text = req.body.decode("utf-8", errors="replace")
            else:
                raise faults.unsupported_operation(f"{req.method} query")
            return Response(200, self.company.query_response(parse(text, self.company.tz)))
        if head == "cdc" and len(parts) == 1 and req.method == "GET":
            return self._cdc(req)
        if head == "batch" and len(parts) == 1 and req.method == "POST":
            return self._batch(_json_body(req.body))
        if head == "preferences" and len(parts) == 1 and req.method == "GET":
            return {
                "Preferences": autocredit.preferences(self.company),
                "time": self.company.time(),
            }
        listed = PATH_TO_LIST.get(head)
        if listed is not None and len(parts) == 2 and req.method == "GET":
            # CompanyInfo is read as companyinfo/{realmId}; its payload's Id is "1".
            wanted = (
                "1" if listed == "CompanyInfo" and parts[1] == self.company.realm_id else parts[1]
            )
            return {listed: self.company.get(listed, wanted), "time": self.company.time()}
        entity = PATH_TO_ENTITY.get(head)
        if entity is None:
            raise faults.unsupported_operation(
                f"{req.method} {parts[0]} (not emulated by the sandbox)"
            )
        if len(parts) == 2 and req.method == "GET":
            return {entity: self.company.get(entity, parts[1]), "time": self.company.time()}
        if len(parts) == 3 and parts[2] == "send" and entity == "Invoice" and req.method == "POST":
            invoice = self.company.send_invoice(parts[1], req.query.get("sendTo"))
            return {"Invoice": invoice, "time": self.company.time()}
        if len(parts) == 1 and req.method == "POST":
            body = _json_body(req.body)
            result = self.write(
                entity,
                req.query.get("operation"),
                body,
                include=req.query.get("include"),
                force_stale=force_stale,
            )
            return {entity: result, "time": self.company.time()}
        raise faults.unsupported_operation(f"{req.method} {req.path}")

    def write(
        self,
        entity: str,
        operation: str | None,
        body: JSON,
        *,
        include: str | None = None,
        force_stale: bool = False,
    ) -> JSON:
        company = self.company
        if force_stale and "Id" in body:
            current = company.get(entity, str(body["Id"]))
            raise faults.stale_object(
                entity, current["Id"], str(body.get("SyncToken")), current["SyncToken"]
            )
        op = (operation or "").lower()
        sparse = _is_true(body.get("sparse"))
        if op == "delete":
            return company.delete_transaction(entity, body)
        if op == "void":
            if entity != "Invoice":
                raise faults.unsupported_operation(
                    f"void on {entity} (use operation=update&include=void)"
                )
            return company.void_invoice(body)
        if op not in ("", "update", "create"):
            raise faults.unsupported_operation(f"operation={operation}")
        has_id = body.get("Id") not in (None, "", 0, "0")
        if entity == "Payment" and include == "void":
            return company.update_payment(body, sparse=True, void=True)
        if not has_id:
            if entity == "Invoice":
                return company.create_invoice(body)
            if entity == "Payment":
                return company.create_payment(body)
            if entity == "CreditMemo":
                return autocredit.auto_apply(company, company.create_credit_memo(body))
            return company.create_customer(body)
        if entity == "Invoice":
            return company.update_invoice(body, sparse=sparse)
        if entity == "Payment":
            return company.update_payment(body, sparse=sparse)
        if entity == "CreditMemo":
            return company.update_credit_memo(body, sparse=sparse)
        return company.update_customer(body, sparse=sparse)

    def _cdc(self, req: ApiRequest) -> Response:
        company = self.company
        raw_entities = req.query.get("entities", "")
        names = [n.strip() for n in raw_entities.split(",") if n.strip()]
        if not names:
            raise faults.required_param("entities is required for cdc", "entities")
        entities: list[str] = []
        for name in names:
            entity = PATH_TO_ENTITY.get(name.lower())
            if entity is None:
                raise faults.invalid_value(
                    f"Entity {name} is not supported by cdc in the sandbox ({', '.join(ENTITIES)})",
                    "entities",
                )
            if entity not in entities:
                entities.append(entity)
        raw_since = req.query.get("changedSince", "")
        if not raw_since:
            raise faults.required_param("changedSince is required for cdc", "changedSince")
        try:
            since = parse_datetime(raw_since, company.tz)
        except ValueError as exc:
            raise faults.invalid_value(f"changedSince {raw_since!r} is not a datetime") from exc
        if since < company.now() - CDC_LOOKBACK:
            raise faults.invalid_value(
                f"Operation cdc with changedSince date {raw_since} which is older than "
                "fixed days is not supported. (Look-back limit: 30 days.)",
                "changedSince",
            )
        return Response(200, company.cdc_response(entities, since, self.settings.cdc_max_objects))

    def _batch(self, body: JSON) -> JSON:
        items = body.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise faults.required_param("BatchItemRequest is required", "BatchItemRequest")
        if len(items) > BATCH_MAX_ITEMS:
            raise faults.invalid_value(
                f"Batch has {len(items)} items; the maximum is {BATCH_MAX_ITEMS}",
                "BatchItemRequest",
            )
        responses: list[JSON] = []
        for item in items:
            if not isinstance(item, dict):
                raise faults.invalid_value("BatchItemRequest entries must be objects")
            b_id = str(item.get("bId", ""))
            try:
                responses.append({"bId": b_id, **self._batch_item(item)})
            except faults.QBOFault as fault:
                responses.append(
                    {"bId": b_id, "Fault": {"Error": fault.errors, "type": fault.fault_type}}
                )
        return {"BatchItemResponse": responses, "time": self.company.time()}

    def _batch_item(self, item: JSON) -> JSON:
        if "Query" in item:
            result = self.company.run_query(parse(str(item["Query"]), self.company.tz))
            return {"QueryResponse": result["QueryResponse"]}
        operation = str(item.get("operation", "")).lower()
        if operation not in ("create", "update", "delete"):
            raise faults.invalid_value(f"batch operation {operation!r} is not supported")
        entity = next((name for name in ENTITIES if name in item), None)
        if entity is None or not isinstance(item[entity], dict):
            raise faults.invalid_value("batch item carries no supported entity")
        payload = item[entity]
        if operation == "create" and payload.get("Id") not in (None, ""):
            raise faults.invalid_value("create must not carry an Id", "Id")
        if operation == "update" and payload.get("Id") in (None, ""):
            raise faults.required_param("update needs Id and SyncToken", "Id")
        result = self.write(entity, "delete" if operation == "delete" else None, payload)
        return {entity: result}
