"""The control API under ``/_sandbox/``: the world around the books, and what happened to them.

Tests and demos use it to act as the business (a customer pays, a bookkeeper edits or voids an
invoice), to bend the environment (clock, token expiry, throttle, injected faults), and to read
back the truth and everything the client wrote. No real QBO path starts with ``/_sandbox``, so a
client under test can never reach these endpoints by accident. See README.md for the reference.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from . import faults
from .injection import rule_from_json
from .money import dumps
from .wire import Response, entity_time

if TYPE_CHECKING:
    from .server import HttpRequest, SandboxApp

JSON = dict[str, Any]


class ControlError(ValueError):
    """A bad control request (HTTP 400 with ``{"error": ...}``)."""


def _ok(payload: Any, status: int = 200) -> Response:
    return Response(status, dumps(payload).encode("utf-8"), content_type="application/json")


def _error(message: str, status: int = 400, **extra: Any) -> Response:
    return _ok({"error": message, **extra}, status)


def _body(req: HttpRequest) -> JSON:
    if not req.body:
        return {}
    try:
        data = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def _line(spec: JSON, default_tax: str = "NON") -> JSON:
    """Control-API line spec -> QBO SalesItemLineDetail line. The bookkeeper's screen fills in
    the company's default tax code when the spec names none (``tax_code``)."""
    detail: JSON = {"ItemRef": {"value": str(spec.get("item_id", "1"))}}
    detail["TaxCodeRef"] = {"value": str(spec.get("tax_code") or default_tax)}
    if "qty" in spec:
        detail["Qty"] = spec["qty"]
    if "unit_price" in spec:
        detail["UnitPrice"] = spec["unit_price"]
    line: JSON = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    if "amount" in spec:
        line["Amount"] = spec["amount"]
    if spec.get("description"):
        line["Description"] = str(spec["description"])
    return line


def handle_control(app: SandboxApp, req: HttpRequest) -> Response:
    try:
        return _route(app, req)
    except faults.QBOFault as fault:
        return _error(str(fault), fault=fault.body(app.company.now(), app.company.tz))
    except (ControlError, ValueError, KeyError, TypeError) as exc:
        return _error(f"{type(exc).__name__}: {exc}")


def _route(app: SandboxApp, req: HttpRequest) -> Response:
    company = app.company
    parts = [p for p in req.path[len("/_sandbox/") :].split("/") if p]
    method = req.method
    key = "/".join(parts[:1])
    if method == "GET" and parts == ["health"]:
        return _ok({"ok": True, "realm_id": company.realm_id})
    if method == "GET" and parts == ["config"]:
        return _ok(app_config(app))
    if key == "clock":
        if method == "POST":
            body = _body(req)
            if "freeze" in body:
                company.clock.freeze(bool(body["freeze"]))
            if "advance_seconds" in body or "advance_days" in body:
                seconds = float(body.get("advance_seconds", 0)) + 86400 * float(
                    body.get("advance_days", 0)
                )
                company.clock.advance(seconds)
            if "set" in body:
                company.clock.set(datetime.fromisoformat(str(body["set"])))
        return _ok(
            {"now": company.now().isoformat(), "local": entity_time(company.now(), company.tz)}
        )
    if method == "POST" and parts == ["tokens", "expire"]:
        return _ok({"expired": app.oauth.expire_access_tokens()})
    if parts == ["consent"] and method in ("GET", "POST"):
        if method == "POST":
            app.oauth.consent.deny = bool(_body(req).get("deny", False))
        return _ok({"deny": app.oauth.consent.deny})
    if method == "POST" and parts == ["tokens", "access"]:
        return _ok({"access_token": app.oauth.issue_access_token()})
    if method == "POST" and parts == ["rate-limit"]:
        body = _body(req)
        if "per_minute" in body:
            app.limiter.set_limit(int(body["per_minute"]))
        if body.get("reset"):
            app.limiter.reset()
        return _ok({"per_minute": app.limiter.per_minute})
    if method == "POST" and parts == ["settings"]:
        body = _body(req)
        if "cdc_max_objects" in body:
            value = int(body.pop("cdc_max_objects"))
            if value < 1:
                raise ControlError("cdc_max_objects must be >= 1")
            app.settings.cdc_max_objects = value
        if "closing_date" in body:
            closing = body.pop("closing_date")
            app.company.closing_date = None if closing is None else date.fromisoformat(closing)
        if "auto_apply_credit" in body:
            app.company.auto_apply_credit = bool(body.pop("auto_apply_credit"))
        if body.pop("strict", False):
            body = {**app.company.unkind.strict().as_json(), **body}
            body.pop("bulk_import")
        try:
            app.company.unkind.update(body)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
    if parts == ["settings"] and method in ("GET", "POST"):
        return _ok(
            {
                "cdc_max_objects": app.settings.cdc_max_objects,
                "closing_date": (
                    app.company.closing_date.isoformat() if app.company.closing_date else None
                ),
                "auto_apply_credit": app.company.auto_apply_credit,
                **app.company.unkind.as_json(),
            }
        )
    if key == "faults":
        if method == "POST":
            app.injector.add(rule_from_json(_body(req)))
        elif method == "DELETE":
            app.injector.clear()
        return _ok({"faults": app.injector.list()})
    if method == "GET" and parts == ["truth"]:
        return _ok(company.truth())
    if method == "GET" and parts == ["snapshot"]:
        return _ok(company.snapshot())
    if method == "GET" and parts == ["writes"]:
        return _ok(company.journal_copy())
    if method == "GET" and parts == ["requests"]:
        return _ok({"requests": app.log_since(int(req.query.get("since", "0")))})
    if method == "POST" and parts == ["payments"]:
        return _ok({"payment": _add_payment(app, _body(req))})
    if key == "invoices":
        return _invoices(app, req, parts[1:])
    if method == "POST" and parts == ["credit-memos"]:
        return _ok({"credit_memo": _add_credit(app, _body(req))})
    if key == "customers":
        body = _body(req)
        if method == "POST" and len(parts) == 1:
            return _ok({"customer": company.create_customer(body)})
        if method == "PATCH" and len(parts) == 2:
            with company.lock:
                current = company.get("Customer", parts[1])
                update = {
                    "Id": parts[1],
                    "SyncToken": current["SyncToken"],
                    **body.get("fields", {}),
                }
                return _ok({"customer": company.update_customer(update, sparse=True)})
    return _error(f"no control endpoint {method} {req.path}", 404)


def _invoices(app: SandboxApp, req: HttpRequest, rest: list[str]) -> Response:
    company = app.company
    body = _body(req)
    if req.method == "POST" and not rest:
        qbo: JSON = {
            "CustomerRef": {"value": str(body["customer_id"])},
            "Line": [_line(spec, company.default_tax_code()) for spec in body.get("lines", [])],
        }
        for src, dst in (
            ("txn_date", "TxnDate"),
            ("due_date", "DueDate"),
            ("doc_number", "DocNumber"),
        ):
            if body.get(src):
                qbo[dst] = str(body[src])
        if body.get("terms_id"):
            qbo["SalesTermRef"] = {"value": str(body["terms_id"])}
        if body.get("bill_email"):
            qbo["BillEmail"] = {"Address": str(body["bill_email"])}
        if body.get("private_note"):
            qbo["PrivateNote"] = str(body["private_note"])
        return _ok({"invoice": company.create_invoice(qbo, source="control")})
    if not rest:
        return _error("invoice id required", 404)
    invoice_id = rest[0]
    with company.lock:
        current = company.get("Invoice", invoice_id)
        token = {"Id": invoice_id, "SyncToken": current["SyncToken"]}
        if req.method == "PATCH" and len(rest) == 1:
            update: JSON = {**token, "sparse": True, **body.get("fields", {})}
            if body.get("add_lines"):
                kept = [
                    line
                    for line in current["Line"]
                    if line.get("DetailType") != "SubTotalLineDetail"
                ]
                update["Line"] = kept + [
                    _line(spec, company.default_tax_code()) for spec in body["add_lines"]
                ]
            return _ok({"invoice": company.update_invoice(update, sparse=True, source="control")})
        if req.method == "POST" and rest[1:] == ["void"]:
            return _ok({"invoice": company.void_invoice(token)})
        if req.method == "POST" and rest[1:] == ["delete"]:
            return _ok({"invoice": company.delete_transaction("Invoice", token)})
        if req.method == "GET" and len(rest) == 1:
            return _ok({"invoice": current, "status": company.invoice_status(invoice_id)})
    return _error(f"no control endpoint {req.method} {req.path}", 404)


def _add_payment(app: SandboxApp, body: JSON) -> JSON:
    company = app.company
    allocations = body.get("allocations", [])
    with company.lock:
        customer_id = body.get("customer_id")
        if customer_id is None:
            if not allocations:
                raise ControlError("customer_id or allocations required")
            customer_id = company.get("Invoice", str(allocations[0]["invoice_id"]))["CustomerRef"][
                "value"
            ]
        lines: list[JSON] = []
        for alloc in allocations:
            invoice = company.get("Invoice", str(alloc["invoice_id"]))
            amount = alloc.get("amount", invoice["Balance"])
            lines.append(
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            )
        qbo: JSON = {"CustomerRef": {"value": str(customer_id)}, "Line": lines}
        if "amount" in body:
            qbo["TotalAmt"] = body["amount"]
        if body.get("txn_date"):
            qbo["TxnDate"] = str(body["txn_date"])
        if body.get("private_note"):
            qbo["PrivateNote"] = str(body["private_note"])
        if body.get("reference"):
            qbo["PaymentRefNum"] = str(body["reference"])
        return company.create_payment(qbo)


def _add_credit(app: SandboxApp, body: JSON) -> JSON:
    company = app.company
    with company.lock:
        memo = company.create_credit_memo(
            {
                "CustomerRef": {"value": str(body["customer_id"])},
                "Line": [
                    _line(
                        {
                            "amount": body["amount"],
                            "description": body.get("description", "Credit"),
                        },
                        company.default_tax_code(),
                    )
                ],
            }
        )
        target = body.get("apply_to_invoice")
        if target:
            amount = body.get("apply_amount", body["amount"])
            company.create_payment(
                {
                    "CustomerRef": {"value": str(body["customer_id"])},
                    "TotalAmt": 0,
                    "PrivateNote": "Created by QB Online to link credits to charges.",
                    "Line": [
                        {
                            "Amount": amount,
                            "LinkedTxn": [{"TxnId": str(target), "TxnType": "Invoice"}],
                        },
                        {
                            "Amount": amount,
                            "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                        },
                    ],
                }
            )
            memo = company.get("CreditMemo", memo["Id"])
        return memo


def app_config(app: SandboxApp) -> dict[str, str]:
    """Credentials and URLs for one syncd ``[[orgs]]`` entry (latest rotated refresh token)."""
    return {
        "client_id": app.oauth.client_id,
        "client_secret": app.oauth.client_secret,
        "refresh_token": app.oauth.latest_refresh_token,
        "realm_id": app.company.realm_id,
        "base_url": f"{app.base_url}/v3",
        "token_url": f"{app.base_url}/oauth2/v1/tokens/bearer",
        "discovery_url": f"{app.base_url}/.well-known/openid_configuration",
    }
