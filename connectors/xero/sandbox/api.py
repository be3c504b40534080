"""The Accounting API 2.0 endpoints: request in, Xero-shaped reply out.

HTTP plumbing (auth, tenant, limits, faults, idempotency) happens before these
handlers run, in :mod:`.server`; here is only what each endpoint means.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import credits, errors, listing, prepaid, setup_api
from .dates import DateParseError, parse_if_modified_since
from .edits import InvoiceWriter, Outcome
from .errors import Reply
from .models import Invoice
from .organisation import Organisation, OrgError
from .queries import (
    QueryError,
    flag,
    list_contacts,
    list_credit_notes,
    list_invoices,
    list_payments,
)
from .render import (
    InvoiceMode,
    contact_json,
    credit_note_json,
    envelope,
    history_envelope,
    history_json,
    invoice_json,
    payment_json,
)

MAX_HISTORY_DETAILS = 250
_NO_DATA = (
    "No data has been processed for this endpoint. "
    "This endpoint is expecting {} data to be specifed in the request body."
)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    segments: list[str]  # path after /api.xro/2.0, split, original case
    params: Mapping[str, str]  # lower-cased names, last value wins
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8") or "null", parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OrgError("Invalid Json data") from exc


def _post_data_invalid() -> Reply:
    return errors.json_reply(
        400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "Invalid Json data"}
    )


class AccountingApi:
    def __init__(self, org: Organisation) -> None:
        self.org = org

    def handle(self, req: ApiRequest) -> Reply:
        seg = [s.lower() for s in req.segments]
        m = req.method
        try:
            with self.org.lock:
                try:
                    return self._route(req, seg, m)
                finally:
                    if m not in ("GET", "HEAD"):  # a write voids the kept texts (listing.py)
                        self.org.renders.written()
        except QueryError as exc:
            if exc.kind == "validation":
                return errors.simple_validation_error(exc.message)
            return errors.query_parse_error(exc.message)
        except OrgError as exc:
            if exc.status == 404:
                return errors.not_found()
            if exc.message == "Invalid Json data":
                return _post_data_invalid()
            return errors.simple_validation_error(exc.message)

    def _route(self, req: ApiRequest, seg: list[str], m: str) -> Reply:
        if not seg:
            return errors.not_found()
        head, rest = seg[0], seg[1:]
        if head == "invoices":
            if not rest:
                if m == "GET":
                    return self.list_invoices(req)
                if m in ("PUT", "POST"):
                    return self.write_invoices(req, create_only=m == "PUT", path_id=None)
            elif len(rest) == 1:
                if m == "GET":
                    return self.get_invoice(req.segments[1])
                if m == "POST":
                    inv = self._invoice(req.segments[1])
                    return self.write_invoices(req, create_only=False, path_id=inv.invoice_id)
            elif len(rest) == 2 and rest[1] == "history":
                inv = self._invoice(req.segments[1])
                if m == "GET":
                    return self.get_history(inv)
                if m in ("PUT", "POST"):
                    return self.add_history(inv, req.body)
            elif len(rest) == 2 and rest[1] == "email" and m == "POST":
                return self.email(self._invoice(req.segments[1]), req.body)
        elif head == "contacts" and m == "GET":
            if not rest:
                return self.list_contacts(req)
            if len(rest) == 1:
                return self.get_contact(req.segments[1])
        elif head == "payments" and m == "GET":
            if not rest:
                return self.list_payments(req)
            if len(rest) == 1:
                return self.get_payment(req.segments[1])
        elif head in prepaid.HEADS and m == "GET" and not rest:
            return prepaid.list_prepaid(self.org, head, req.params, req.headers, self._now())
        elif head in setup_api.HEADS and m == "GET" and not rest:
            return self.setup(head, req)
        elif head == "creditnotes" and m == "PUT":
            if not rest:
                return credits.create_credit_notes(self.org, req.body)
            if len(rest) == 2 and rest[1] == "allocations":
                return credits.create_allocation(self.org, req.segments[1], req.body)
        elif head == "creditnotes" and m == "GET":
            if not rest:
                return self.list_credit_notes(req)
            if len(rest) == 1:
                return self.get_credit_note(req.segments[1])
        return errors.not_found()

    def setup(self, head: str, req: ApiRequest) -> Reply:
        if head == "organisation":
            return setup_api.get_organisation(self.org, self._now())
        if head == "accounts":
            return setup_api.list_accounts(self.org, req.params, req.headers, self._now())
        return setup_api.list_tax_rates(self.org, req.params, self._now())

    # ----------------------------------------------------------- helpers
    def _now(self) -> datetime:
        return self.org.clock.now()

    def _modified_since(self, req: ApiRequest) -> datetime | None:
        value = req.headers.get("if-modified-since")
        if not value:
            return None
        try:
            return parse_if_modified_since(value)
        except DateParseError:
            return None  # Xero ignores a header it cannot read

    def _invoice(self, ident: str) -> Invoice:
        try:
            key = str(uuid.UUID(ident))
        except ValueError:
            found = self.org.accrec_by_number(ident)
            if found is None:
                raise OrgError("not found", status=404) from None
            return found
        return self.org.find_invoice(key)

    # ---------------------------------------------------------- invoices
    def list_invoices(self, req: ApiRequest) -> Reply:
        page = list_invoices(self.org, req.params, self._modified_since(req))
        mode: InvoiceMode
        if flag(req.params.get("summaryonly")):
            mode = "summary"
        elif page.pagination is None:
            mode = "nolines"
        else:
            mode = "list"
        return listing.invoice_page(self.org, page, mode, self._now())

    def get_invoice(self, ident: str) -> Reply:
        inv = self._invoice(ident)
        return errors.json_reply(
            200, envelope(self._now(), "Invoices", [invoice_json(self.org, inv, "full")])
        )

    def write_invoices(self, req: ApiRequest, *, create_only: bool, path_id: str | None) -> Reply:
        data = _json_body(req.body)
        if isinstance(data, dict) and isinstance(data.get("Invoices"), list):
            elements = data["Invoices"]
        elif isinstance(data, dict):
            elements = [data]
        else:
            return _post_data_invalid()
        if not elements:
            return errors.json_reply(
                400,
                {
                    "ErrorNumber": 17,
                    "Type": "NoDataProcessedException",
                    "Message": _NO_DATA.format("Invoice"),
                },
            )
        summarize = req.params.get("summarizeerrors", "true").lower() != "false"
        writer = InvoiceWriter(self.org)
        outcomes = writer.run(elements, create_only=create_only, path_id=path_id)
        failed = [o for o in outcomes if o.errors]
        if summarize and failed:
            return errors.validation_error([self._element(o) for o in failed])
        rendered: list[dict[str, Any]] = []
        for outcome in outcomes:
            if outcome.errors:
                rendered.append(self._element(outcome, summarize=False))
                continue
            inv = writer.commit(outcome)
            body = invoice_json(self.org, inv, "full")
            if not summarize:
                body["StatusAttributeString"] = "OK"
            rendered.append(body)
        return errors.json_reply(200, envelope(self._now(), "Invoices", rendered))

    def _element(self, outcome: Outcome, *, summarize: bool = True) -> dict[str, Any]:
        """Echo a rejected invoice the way Xero does, with its ValidationErrors."""
        if outcome.invoice is not None:
            item = invoice_json(self.org, outcome.invoice, "full")
        elif outcome.existing is not None:
            item = invoice_json(self.org, outcome.existing, "full")
        else:
            item = {k: v for k, v in outcome.request.items() if k in _ECHO_KEYS}
            item.setdefault("Type", outcome.request.get("Type") or "ACCREC")
            item["LineItems"] = [
                {k: v for k, v in li.items() if k in _LINE_ECHO_KEYS}
                for li in outcome.request.get("LineItems") or []
                if isinstance(li, dict)
            ]
            item = _jsonable(item)
        item["HasErrors"] = True
        item["ValidationErrors"] = [{"Message": msg} for msg in outcome.errors]
        if not summarize:
            item["StatusAttributeString"] = "ERROR"
        return item

    # ----------------------------------------------------------- history
    def get_history(self, inv: Invoice) -> Reply:
        records = sorted(inv.history, key=lambda r: r.at, reverse=True)
        return errors.json_reply(
            200, history_envelope(self._now(), [history_json(r) for r in records])
        )

    def add_history(self, inv: Invoice, body: bytes) -> Reply:
        data = _json_body(body)
        records = data.get("HistoryRecords") if isinstance(data, dict) else None
        if not isinstance(records, list) or not records:
            return errors.json_reply(
                400,
                {
                    "ErrorNumber": 17,
                    "Type": "NoDataProcessedException",
                    "Message": _NO_DATA.format("HistoryRecord"),
                },
            )
        problems: list[dict[str, Any]] = []
        for record in records:
            details = record.get("Details") if isinstance(record, dict) else None
            message = None
            if not isinstance(details, str) or not details.strip():
                message = "The Details field is required"
            elif len(details) > MAX_HISTORY_DETAILS:
                message = "The Details field must be 250 characters or less"
            if message:
                problems.append(
                    {
                        "Details": details if isinstance(details, str) else "",
                        "ValidationErrors": [{"Message": message}],
                    }
                )
        if problems:
            return errors.validation_error(problems)
        created = [self.org.add_note(inv, str(r["Details"])) for r in records]
        return errors.json_reply(
            200, history_envelope(self._now(), [history_json(r, created=True) for r in created])
        )

    # ------------------------------------------------------------- email
    def email(self, inv: Invoice, body: bytes) -> Reply:
        if body.strip():
            _json_body(body)
        try:
            self.org.email(inv)
        except OrgError as exc:
            return errors.simple_validation_error(exc.message, {"InvoiceID": inv.invoice_id})
        return Reply(204, b"", None)

    # ---------------------------------------------------------- contacts
    def list_contacts(self, req: ApiRequest) -> Reply:
        page = list_contacts(self.org, req.params, self._modified_since(req))
        summary = flag(req.params.get("summaryonly"))
        return listing.contact_page(self.org, page, summary, self._now())

    def get_contact(self, ident: str) -> Reply:
        try:
            contact = self.org.contacts.get(str(uuid.UUID(ident)))
        except ValueError:
            contact = None
        if contact is None:
            return errors.not_found()
        balances = listing.balances(self.org, self._now().date())
        item = contact_json(
            contact, balances.get(contact.contact_id) if contact.is_customer else None
        )
        return errors.json_reply(200, envelope(self._now(), "Contacts", [item]))

    # ---------------------------------------------------------- payments
    def list_payments(self, req: ApiRequest) -> Reply:
        page = list_payments(self.org, req.params, self._modified_since(req))
        return listing.payment_page(self.org, page, self._now())

    def get_payment(self, ident: str) -> Reply:
        try:
            payment = self.org.payments.get(str(uuid.UUID(ident)))
        except ValueError:
            payment = None
        if payment is None:
            return errors.not_found()
        return errors.json_reply(
            200, envelope(self._now(), "Payments", [payment_json(self.org, payment)])
        )

    # ------------------------------------------------------ credit notes
    def list_credit_notes(self, req: ApiRequest) -> Reply:
        page = list_credit_notes(self.org, req.params, self._modified_since(req))
        return listing.credit_note_page(self.org, page, self._now())

    def get_credit_note(self, ident: str) -> Reply:
        try:
            note = self.org.credit_notes.get(str(uuid.UUID(ident)))
        except ValueError:
            note = next((n for n in self.org.credit_notes.values() if n.number == ident), None)
        if note is None:
            return errors.not_found()
        return errors.json_reply(
            200, envelope(self._now(), "CreditNotes", [credit_note_json(self.org, note)])
        )


_ECHO_KEYS = frozenset(
    {"Type", "InvoiceID", "InvoiceNumber", "Reference", "Contact", "Date", "DueDate", "Status",
     "LineAmountTypes", "CurrencyCode", "CurrencyRate"}
)  # fmt: skip
_LINE_ECHO_KEYS = frozenset(
    {
        "LineItemID",
        "Description",
        "Quantity",
        "UnitAmount",
        "AccountCode",
        "TaxType",
        "LineAmount",
        "ItemCode",
    }
)


def _jsonable(value: Any) -> Any:
    """Request echoes may hold Decimals from parsing; turn them into JSON numbers."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
