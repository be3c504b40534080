"""``PUT /CreditNotes`` and ``PUT /CreditNotes/{id}/Allocations``: a sales credit note and
its allocation to an invoice, with the rules Xero states.

Sources: the Accounting API OpenAPI spec (``createCreditNotes``,
``createCreditNoteAllocation``: ``Allocations[{Invoice{InvoiceID}, Amount, Date}]``, one
allocation per call, ``summarizeErrors``) and Xero's validation messages as developers
recorded them ("Credit Note cannot be allocated as amount is greater than amount
outstanding", "The invoice you are trying to allocate to has already been paid off").
A credit note cannot be allocated while it is a DRAFT, and allocations are not taken inline
on create (Xero support, quoted in xeroizer#196): the sandbox refuses both, the unfavourable
reading. Where Xero is silent (a currency mismatch, an allocation dated before the credit
note) the sandbox refuses too, with a message in Xero's style.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from . import errors
from .dates import DateParseError, parse_body_date
from .edit_lines import NOT_FOR_LINES
from .edit_lines import Invalid as _Invalid
from .edit_lines import to_decimal as _decimal
from .errors import Reply
from .locks import lock_refusal
from .models import CreditNote, LineItem
from .money import ZERO, cents
from .organisation import Organisation
from .render import credit_note_json, envelope
from .totals import reprice_credit_note

STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
_NO_DATA = (
    "No data has been processed for this endpoint. "
    "This endpoint is expecting {} data to be specifed in the request body."
)


def _body(raw: bytes, key: str) -> list[Any] | None:
    try:
        data = json.loads(raw.decode("utf-8") or "null", parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return list(data[key])
    return [data] if isinstance(data, dict) else None


def _post_data_invalid() -> Reply:
    return errors.json_reply(
        400, {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "Invalid Json data"}
    )


def _no_data(what: str) -> Reply:
    return errors.json_reply(
        400,
        {"ErrorNumber": 17, "Type": "NoDataProcessedException", "Message": _NO_DATA.format(what)},
    )


def create_credit_notes(org: Organisation, body: bytes) -> Reply:
    elements = _body(body, "CreditNotes")
    if elements is None:
        return _post_data_invalid()
    if not elements:
        return _no_data("CreditNote")
    created: list[CreditNote] = []
    for raw in elements:
        try:
            created.append(_credit_note(org, raw))
        except _Invalid as exc:
            echo = {k: v for k, v in raw.items() if k in ("Type", "Reference", "CurrencyCode")}
            return errors.simple_validation_error(str(exc), _jsonable(echo))
    for note in created:
        org.credit_notes[note.credit_note_id] = note
    now = org.clock.now()
    return errors.json_reply(
        200, envelope(now, "CreditNotes", [credit_note_json(org, n) for n in created])
    )


def _credit_note(org: Organisation, raw: object) -> CreditNote:
    if not isinstance(raw, dict):
        raise _Invalid("Invalid Json data")
    kind = str(raw.get("Type") or "")
    if kind not in ("ACCRECCREDIT", "ACCPAYCREDIT"):
        raise _Invalid("A valid Type must be specified (ACCRECCREDIT or ACCPAYCREDIT)")
    if raw.get("Allocations"):
        raise _Invalid("Allocations cannot be created with the credit note; use Allocations")
    contact = raw.get("Contact") if isinstance(raw.get("Contact"), dict) else {}
    contact_id = str((contact or {}).get("ContactID") or "").lower()
    if contact_id not in org.contacts:
        raise _Invalid("A Contact must be specified for this type of transaction")
    status = str(raw.get("Status") or "DRAFT").upper()
    if status not in STATUSES:
        raise _Invalid(f"Status '{status}' is not valid for a new credit note")
    try:
        day = parse_body_date(raw["Date"]) if raw.get("Date") else org.clock.now().date()
    except DateParseError:
        raise _Invalid(f"Date '{raw.get('Date')}' is not a valid date") from None
    locked = lock_refusal(org, day)
    if locked:
        raise _Invalid(locked)
    currency = str(raw.get("CurrencyCode") or org.region.currency).upper()
    lat = str(raw.get("LineAmountTypes") or "Exclusive")
    lines = [_line(org, item, lat, status) for item in raw.get("LineItems") or []]
    if not lines:
        raise _Invalid("A credit note must have at least one line item")
    try:
        rate = org.region.currency_rate(currency)
    except KeyError:
        raise _Invalid(f"The currency '{currency}' is not enabled for this organisation") from None
    note = CreditNote(
        credit_note_id=org.new_id(),
        number=_number(org),
        type=kind,
        contact_id=contact_id,
        date=day,
        status=status,
        line_amount_types=lat,
        line_items=lines,
        currency=currency,
        currency_rate=rate,
        updated=org.touch(),
        reference=str(raw.get("Reference") or "")[:255],
    )
    reprice_credit_note(note, org.region.rates())
    if note.total <= 0:
        raise _Invalid("The credit note total must be greater than zero")
    return note


def _number(org: Organisation) -> str:
    number = f"CN-{org.next_credit_note_number:04d}"
    org.next_credit_note_number += 1
    return number


def _line(org: Organisation, item: object, lat: str, status: str) -> LineItem:
    if not isinstance(item, dict):
        raise _Invalid("Invalid line item")
    code = str(item.get("AccountCode") or "")
    if code:
        account = org.region.account(code)
        if account is None or account.code in NOT_FOR_LINES:
            raise _Invalid(f"Account code '{code}' is not a valid code for this document.")
    elif status == "AUTHORISED":
        raise _Invalid("AccountCode is required on every line item of an approved credit note")
    tax = str(item.get("TaxType") or org.region.no_tax)
    if lat != "NoTax" and org.region.rate(tax) is None:
        raise _Invalid(f"The TaxType code '{tax}' does not exist or cannot be used")
    return LineItem(
        line_item_id=org.new_id(),
        description=str(item.get("Description") or ""),
        quantity=_decimal(item.get("Quantity", 1), "Quantity"),
        unit_amount=cents(_decimal(item.get("UnitAmount", 0), "UnitAmount")),
        account_code=code,
        tax_type=tax,
    )


def create_allocation(org: Organisation, ident: str, body: bytes) -> Reply:
    try:
        note = org.credit_notes.get(str(uuid.UUID(ident)))
    except ValueError:
        note = None
    if note is None:
        return errors.not_found()
    elements = _body(body, "Allocations")
    if elements is None:
        return _post_data_invalid()
    if len(elements) != 1:
        return _no_data("Allocation") if not elements else _post_data_invalid()
    raw = elements[0]
    try:
        inv_id, amount, day = _allocation(org, note, raw)
    except _Invalid as exc:
        return errors.simple_validation_error(str(exc), {"Amount": _jsonable(raw.get("Amount"))})
    inv = org.invoices[inv_id]
    at = org.touch()
    org.allocate_credit(note, inv, amount, day, at)
    note.updated = at
    alloc = note.allocations[-1]
    now = org.clock.now()
    reply = {
        "AllocationID": alloc.allocation_id,
        "Amount": float(alloc.amount),
        "Date": f"/Date({_ms(alloc.date)}+0000)/",
        "Invoice": {"InvoiceID": inv.invoice_id, "InvoiceNumber": inv.number},
        "CreditNote": {"CreditNoteID": note.credit_note_id, "ID": note.credit_note_id},
        "ValidationErrors": [],
    }
    return errors.json_reply(200, envelope(now, "Allocations", [reply]))


def _allocation(org: Organisation, note: CreditNote, raw: object) -> tuple[str, Decimal, date]:
    if not isinstance(raw, dict):
        raise _Invalid("Invalid Json data")
    invoice = raw.get("Invoice") if isinstance(raw.get("Invoice"), dict) else None
    inv_id = str((invoice or {}).get("InvoiceID") or "").lower()
    inv = org.invoices.get(inv_id)
    if inv is None:
        raise _Invalid("Invoice could not be found")
    amount = _decimal(raw.get("Amount"), "Amount")
    if amount <= 0:
        raise _Invalid("Amount must be greater than zero")
    try:
        day = parse_body_date(raw["Date"]) if raw.get("Date") else org.clock.now().date()
    except DateParseError:
        raise _Invalid(f"Date '{raw.get('Date')}' is not a valid date") from None
    if note.status != "AUTHORISED":
        raise _Invalid("Only AUTHORISED credit notes can be allocated")
    expected = "ACCREC" if note.type == "ACCRECCREDIT" else "ACCPAY"
    if inv.type != expected or inv.contact_id != note.contact_id:
        raise _Invalid("Credit Note cannot be allocated to an incorrect invoice type or contact")
    if inv.status == "PAID" or inv.amount_due <= ZERO:
        raise _Invalid("The invoice you are trying to allocate to has already been paid off")
    if inv.status != "AUTHORISED":
        raise _Invalid("Invoice not of valid status for allocation")
    if inv.currency != note.currency:
        raise _Invalid("The credit note and the invoice must be in the same currency")
    if amount > inv.amount_due or amount > note.remaining_credit:
        raise _Invalid(
            "Credit Note cannot be allocated as amount is greater than amount outstanding"
        )
    if day < note.date:
        raise _Invalid("The allocation date cannot be before the credit note date")
    locked = lock_refusal(org, day)
    if locked:
        raise _Invalid(locked)
    return inv.invoice_id, cents(amount), day


def _ms(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp() * 1000)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value
