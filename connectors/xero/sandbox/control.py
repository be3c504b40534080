"""The control API under ``/_sandbox``: how tests play Xero's side.

No tenant header, no token, no rate limit.  Requests and responses are JSON;
amounts are decimal strings.  See README.md for the endpoint list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from . import control_extra, errors
from .auth import IdentityServer
from .consent import ConsentDesk
from .dates import DateParseError, parse_body_date
from .edits import InvoiceWriter
from .errors import Reply
from .faults import FaultInjector, parse_fault
from .limits import RateLimiter
from .money import text
from .organisation import Organisation, OrgError
from .requestlog import RequestLog
from .truth import payment_row


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _invoice_row(org: Organisation, invoice_id: str) -> dict[str, Any]:
    for row in org.truth()["invoices"]:
        if row["invoice_id"] == invoice_id:
            return dict(row)
    inv = org.invoices[invoice_id]  # an ACCPAY bill: not in the truth, describe it directly
    return {
        "invoice_id": inv.invoice_id,
        "invoice_number": inv.number,
        "type": inv.type,
        "status": inv.status,
        "total": text(inv.total),
        "amount_due": text(inv.amount_due),
    }


#: A handler's answer for a request it does not serve (None is a 204).
_NOT_HERE = object()


class ControlApi:
    def __init__(
        self,
        *,
        org: Organisation,
        identity: IdentityServer,
        limiter: RateLimiter,
        faults: FaultInjector,
        log: RequestLog,
        config: Callable[[], dict[str, Any]],
    ) -> None:
        self.org = org
        self.identity = identity
        self.limiter = limiter
        self.faults = faults
        self.log = log
        self.config = config
        #: The consent screen's switches (set by the sandbox once the dispatcher exists).
        self.consent: ConsentDesk | None = None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        parts = [p for p in path.split("/") if p][1:]  # drop "_sandbox"
        try:
            data = json.loads(body.decode("utf-8"), parse_float=Decimal) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            return errors.json_reply(400, {"error": "body must be JSON"})
        if not isinstance(data, dict):
            return errors.json_reply(400, {"error": "body must be a JSON object"})
        params = {k: v[-1] for k, v in query.items()}
        try:
            try:
                result = self._route(method, parts, data, params)
            finally:
                if method != "GET":  # any change voids the rendered texts (rendercache.py)
                    self.org.renders.written()
        except ControlError as exc:
            return errors.json_reply(exc.status, {"error": exc.message})
        except OrgError as exc:
            return errors.json_reply(exc.status, {"error": exc.message})
        except (ValueError, KeyError, TypeError, InvalidOperation, DateParseError) as exc:
            return errors.json_reply(400, {"error": f"bad request: {exc}"})
        if result is None:
            return Reply(204, b"", None)
        return errors.json_reply(200, result)

    def _route(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        org = self.org
        key = "/".join(parts[:1])
        if not parts and method == "GET":
            return {"endpoints": ENDPOINTS, "config": self.config()}
        if key == "config" and method == "GET":
            return self.config()
        if key == "truth" and method == "GET":
            return org.truth()
        if key == "consent" and method in ("GET", "POST") and self.consent is not None:
            if method == "POST":
                self.consent.deny = bool(data.get("deny", False))
            return {"deny": self.consent.deny}
        if key == "invoices":
            return self._invoices(method, parts, data)
        if key == "writes" and method == "GET":
            with org.lock:
                return org.writes.as_json()
        handler = self._HANDLERS.get(key)
        if handler is not None:
            found = handler(self, method, parts, data, params)
            if found is not _NOT_HERE:
                return found
        extra = control_extra.handle(org, method, parts, data)
        if extra is not control_extra.NOT_MINE:
            return extra
        raise ControlError(f"no control endpoint {method} /_sandbox/{'/'.join(parts)}", 404)

    def _clock(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        clock = self.org.clock
        if method == "POST":
            if "advance_seconds" in data:
                clock.advance(float(data["advance_seconds"]))
            elif "set" in data:
                moment = datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    raise ControlError("set needs a timezone offset")
                clock.set(moment)
            else:
                raise ControlError("give advance_seconds or set")
        return {"now": clock.now().isoformat()}

    def _tokens(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        if len(parts) == 2 and method == "POST":
            if parts[1] == "expire":
                return {"expired": self.identity.expire_access_tokens()}
            if parts[1] == "revoke":
                return {"revoked": self.identity.revoke_refresh_tokens()}
            if parts[1] == "refresh-token":
                return {"refresh_token": self.identity.mint_refresh_token()}
            if parts[1] == "code":
                return {"code": self.identity.mint_code()}
        return _NOT_HERE

    def _limits(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        if len(parts) == 2 and parts[1] == "reset" and method == "POST":
            self.limiter.reset()
        elif method == "POST":
            self.limiter.configure(
                minute=_opt_int(data, "minute"),
                day=_opt_int(data, "day"),
                concurrent=_opt_int(data, "concurrent"),
                app_minute=_opt_int(data, "app_minute"),
            )
        limits = self.limiter.limits
        return {
            "minute": limits.minute,
            "day": limits.day,
            "concurrent": limits.concurrent,
            "app_minute": limits.app_minute,
            "remaining": self.limiter.peek_headers(self.org.tenant_id),
        }

    def _faults(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        if method == "POST":
            self.faults.add(parse_fault(data))
        elif method == "DELETE":
            self.faults.clear()
        return {"faults": self.faults.pending()}

    def _payments(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        org = self.org
        n = len(parts)
        if n == 1 and method == "POST":
            with org.lock:
                amount = Decimal(str(data["amount"])) if data.get("amount") is not None else None
                on = parse_body_date(data["date"]) if data.get("date") else None
                payment = org.add_payment(
                    str(data["invoice_id"]), amount, on, str(data.get("reference", ""))
                )
                return payment_row(org, payment)
        if (n == 2 and method == "DELETE") or (
            n == 3 and parts[2] == "delete" and method == "POST"
        ):
            with org.lock:
                payment = org.delete_payment(parts[1])
                return payment_row(org, payment)
        return _NOT_HERE

    def _requests(
        self, method: str, parts: list[str], data: dict[str, Any], params: dict[str, str]
    ) -> Any:
        if len(parts) == 2 and parts[1] == "record" and method == "POST":
            self.log.record_bodies = bool(data.get("bodies", True))
            return {"record_bodies": self.log.record_bodies}
        if method == "DELETE":
            self.log.clear()
            return None
        if method == "GET":
            bodies = params.get("bodies", "").lower() == "true"
            return {"requests": self.log.entries(bodies=bodies, since=int(params.get("since", 0)))}
        return _NOT_HERE

    #: Control endpoints by their first path segment (the rest fall through to control_extra).
    _HANDLERS: ClassVar[dict[str, Callable[..., Any]]] = {
        "clock": _clock,
        "tokens": _tokens,
        "limits": _limits,
        "faults": _faults,
        "payments": _payments,
        "requests": _requests,
    }

    def _invoices(self, method: str, parts: list[str], data: dict[str, Any]) -> Any:
        org = self.org
        n = len(parts)
        with org.lock:
            if n == 1 and method == "POST":
                element = _xero_invoice(data)
                element.setdefault("Type", "ACCREC")
                writer = InvoiceWriter(org)
                outcome = writer.run([element], create_only=True, path_id=None)[0]
                if outcome.errors:
                    raise ControlError("; ".join(outcome.errors))
                inv = writer.commit(outcome)
                org.writes.created_invoices.pop()  # Xero-side change, not a client write
                return _invoice_row(org, inv.invoice_id)
            if n >= 2:
                inv = org.find_invoice(parts[1])
                if n == 2 and method == "GET":
                    return _invoice_row(org, inv.invoice_id)
                if n == 2 and method == "PATCH":
                    element = _xero_invoice(data)
                    writer = InvoiceWriter(org)
                    outcome = writer.run([element], create_only=False, path_id=inv.invoice_id)[0]
                    if outcome.errors:
                        raise ControlError("; ".join(outcome.errors))
                    before = (len(org.writes.updated_invoices), len(org.writes.line_edits))
                    writer.commit(outcome)
                    del org.writes.updated_invoices[before[0] :]
                    del org.writes.line_edits[before[1] :]
                    return _invoice_row(org, inv.invoice_id)
                if n == 3 and method == "POST" and parts[2] in ("void", "delete"):
                    status = "VOIDED" if parts[2] == "void" else "DELETED"
                    org.change_status(inv, status, org.touch(), user="Sandbox Control")
                    return _invoice_row(org, inv.invoice_id)
        raise ControlError(f"no control endpoint {method} /_sandbox/{'/'.join(parts)}", 404)


def _opt_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    number = int(value)
    if number < 1:
        raise ControlError(f"{name} must be >= 1")
    return number


def _xero_invoice(data: dict[str, Any]) -> dict[str, Any]:
    """Translate the control API's snake_case invoice into Xero's field names."""
    out: dict[str, Any] = {}
    mapping = {
        "type": "Type",
        "invoice_number": "InvoiceNumber",
        "reference": "Reference",
        "date": "Date",
        "due_date": "DueDate",
        "status": "Status",
        "currency": "CurrencyCode",
        "line_amount_types": "LineAmountTypes",
    }
    for src, dst in mapping.items():
        if src in data:
            out[dst] = data[src]
    if "contact_id" in data:
        out["Contact"] = {"ContactID": data["contact_id"]}
    if "lines" in data:
        out["LineItems"] = [
            {
                {
                    "line_item_id": "LineItemID",
                    "description": "Description",
                    "quantity": "Quantity",
                    "unit_amount": "UnitAmount",
                    "account_code": "AccountCode",
                    "tax_type": "TaxType",
                    "item_code": "ItemCode",
                }.get(k, k): v
                for k, v in line.items()
            }
            for line in data["lines"]
        ]
    return out


ENDPOINTS = [
    "GET /_sandbox/config",
    "GET /_sandbox/truth",
    "GET|POST /_sandbox/clock  {advance_seconds} | {set}",
    "POST /_sandbox/tokens/expire | revoke | refresh-token | code",
    "GET|POST /_sandbox/limits  {minute, day, concurrent, app_minute}",
    "POST /_sandbox/limits/reset",
    "GET|POST|DELETE /_sandbox/faults  {kind, count, method, path, problem, retry_after, seconds}",
    "POST /_sandbox/payments  {invoice_id, amount?, date?, reference?}",
    "DELETE /_sandbox/payments/{id}",
    "POST /_sandbox/invoices  {contact_id, type?, status?, date?, due_date?, currency?, lines}",
    "GET|PATCH /_sandbox/invoices/{id}",
    "POST /_sandbox/invoices/{id}/void | delete",
    "GET /_sandbox/writes",
    "GET|DELETE /_sandbox/requests  ?bodies=true&since=N",
    "POST /_sandbox/requests/record  {bodies}",
    *control_extra.ENDPOINTS,
]
