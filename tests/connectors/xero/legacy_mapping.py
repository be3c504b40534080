"""The Xero mapper as it was before records were decoded into Structs, kept verbatim as the
oracle of the equivalence tests (``test_xero_fast_read``): records parsed with
``json.loads(parse_float=Decimal)`` and mapped by it must equal what the fast path makes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    Page,
    PaymentKind,
    PaymentRecord,
    SkippedRecord,
)
from connectors.kit import TAG_RE
from connectors.kit import find_tag as tag_of
from connectors.kit import tag as tag
from connectors.kit import tag_key as tag_key
from connectors.xero import contacts, wire

#: Marks what syncd wrote (a fee line, a history note, a fee invoice), so that it is
#: recognisable after a crash or once Xero no longer replays the idempotency key.
FEE_TAG = TAG_RE
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2})?(\d{2})?\)/$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)
#: Larger amounts are refused: no small business invoices a trillion, and the store keeps
#: money as micro-units in a 64-bit integer on SQLite (about 9.2 * 10^12 at most).
AMOUNT_LIMIT = Decimal(10) ** 12
_ISO_4217 = frozenset(list_currencies())

SALES_INVOICE = "ACCREC"
SALES_CREDIT = "ACCRECCREDIT"
SALES_PAYMENT = "ACCRECPAYMENT"
#: Read-only or time-dependent parts of a contact: ``Balances`` changes every day an invoice
#: ages without the contact's UpdatedDateUTC moving, so keeping it would make every re-read
#: look like a change.
_VOLATILE_CONTACT_KEYS = ("Balances",)

_STATUS = {
    "DRAFT": InvoiceStatus.DRAFT,
    "SUBMITTED": InvoiceStatus.DRAFT,
    "AUTHORISED": InvoiceStatus.OPEN,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOIDED,
    "DELETED": InvoiceStatus.DELETED,
}


class MappingError(ValueError):
    pass


def _ms(match: re.Match[str]) -> tuple[datetime, timedelta]:
    instant = _EPOCH + timedelta(milliseconds=int(match.group(1)))
    offset = timedelta()
    if match.group(2):
        sign = -1 if match.group(2).startswith("-") else 1
        hours, minutes = abs(int(match.group(2))), int(match.group(3) or 0)
        offset = sign * timedelta(hours=hours, minutes=minutes)
    return instant, offset


def parse_datetime(value: Any, field: str = "UpdatedDateUTC") -> datetime:
    """``/Date(1731582714025+0000)/`` or ISO 8601; Xero's UTC fields come without an offset."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        found = _timestamp_text(value)
        if found is None:
            raise MappingError(f"{field} is not a Xero timestamp: {value!r}")
        return found
    else:
        raise MappingError(f"{field} is missing")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _timestamp_text(value: str) -> datetime | None:
    """A timestamp's text to UTC, or None; cached: a page repeats the same dates often."""
    match = _MS_DATE.match(value.strip())
    if match:
        return _ms(match)[0]
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any, field: str) -> date | None:
    """A calendar date; ``/Date(ms+zone)/`` is read in its own zone (Xero sends midnight)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        found = _date_text(value)
        if found is not None:
            return found
    raise MappingError(f"{field} is not a date: {value!r}")


@functools.lru_cache(maxsize=4096)
def _date_text(value: str) -> date | None:
    match = _MS_DATE.match(value.strip())
    if match:
        instant, offset = _ms(match)
        return (instant + offset).date()
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def money(raw: Mapping[str, Any], field: str, default: Decimal | None = None) -> Decimal:
    value = raw.get(field)
    if value is None:
        if default is not None:
            return default
        raise MappingError(f"{field} is missing")
    if isinstance(value, bool | float):
        # A float has already lost the exact amount; refuse rather than guess.
        raise MappingError(f"{field} arrived as {type(value).__name__}; decimals are required")
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise MappingError(f"{field} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise MappingError(f"{field} is not a finite number: {value!r}")
    if abs(amount) >= AMOUNT_LIMIT:
        raise MappingError(f"{field} {amount} is beyond any amount syncd accepts (10^12)")
    return amount


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _require_id(raw: Mapping[str, Any], field: str) -> str:
    value = _text(raw.get(field))
    if value is None:
        raise MappingError(f"{field} is missing")
    return value


def _currency(code: Any, home_currency: str | None, field: str = "CurrencyCode") -> str:
    text = _text(code) or home_currency
    if text is None:
        raise MappingError(f"{field} is missing and no home_currency is configured")
    if not _CURRENCY.match(text) or text not in _ISO_4217:
        raise MappingError(f"{field} is not an ISO 4217 currency code: {text!r}")
    return text


def _nested_id(raw: Mapping[str, Any], outer: str, field: str) -> str | None:
    inner = raw.get(outer)
    if isinstance(inner, Mapping):
        return _text(inner.get(field))
    return None


# -- contacts --------------------------------------------------------------------------------


def contact_email(raw: Mapping[str, Any]) -> str | None:
    """The primary address, else the first contact person Xero includes in emails."""
    primary = _text(raw.get("EmailAddress"))
    if primary:
        return primary
    for person in raw.get("ContactPersons") or []:
        if isinstance(person, Mapping) and person.get("IncludeInEmails") is True:
            address = _text(person.get("EmailAddress"))
            if address:
                return address
    return None


def email_recipients(raw: Mapping[str, Any]) -> list[str]:
    """Everyone ``POST /Invoices/{id}/Email`` reaches: the contact plus opted-in persons."""
    out = [a for a in [_text(raw.get("EmailAddress"))] if a]
    for person in raw.get("ContactPersons") or []:
        if isinstance(person, Mapping) and person.get("IncludeInEmails") is True:
            address = _text(person.get("EmailAddress"))
            if address:
                out.append(address)
    return out


def customer(raw: Mapping[str, Any], raw_json: str | None = None) -> CustomerRecord:
    name = _text(raw.get("Name"))
    if name is None:
        joined = " ".join(p for p in (_text(raw.get("FirstName")), _text(raw.get("LastName"))) if p)
        name = joined or None
    if name is None:
        raise MappingError("contact has no Name")
    status = str(raw.get("ContactStatus") or "ACTIVE").upper()
    currency = _text(raw.get("DefaultCurrency"))
    if currency is not None and (not _CURRENCY.match(currency) or currency not in _ISO_4217):
        raise MappingError(f"DefaultCurrency is not an ISO 4217 currency code: {currency!r}")
    return CustomerRecord(
        provider_id=_require_id(raw, "ContactID"),
        name=name,
        email=contact_email(raw),
        currency=currency,
        updated_at=parse_datetime(raw.get("UpdatedDateUTC")),
        active=status == "ACTIVE",
        # A GDPR erasure request is Xero's only way of removing a contact for good.
        deleted=status == "GDPRREQUEST",
        **contacts.details(raw),
        raw={k: v for k, v in raw.items() if k not in _VOLATILE_CONTACT_KEYS},
        raw_json=_stable_text(raw, raw_json),
    )


def _stable_text(raw: Mapping[str, Any], raw_json: str | None) -> str | None:
    """The contact's text without its volatile members (see ``_VOLATILE_CONTACT_KEYS``)."""
    if raw_json is None or not any(k in raw for k in _VOLATILE_CONTACT_KEYS):
        return raw_json
    return wire.without(raw_json, _VOLATILE_CONTACT_KEYS)


# -- invoices --------------------------------------------------------------------------------


def is_sales_invoice(raw: Mapping[str, Any]) -> bool:
    return str(raw.get("Type") or "") == SALES_INVOICE


def invoice_lines(raw: Mapping[str, Any]) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    for line in raw.get("LineItems") or []:
        if not isinstance(line, Mapping):
            raise MappingError("LineItems holds something that is not a line")
        description = _text(line.get("Description"))
        lines.append(
            InvoiceLine(
                provider_line_id=_text(line.get("LineItemID")),
                description=description,
                amount=money(line, "LineAmount", _ZERO),
                item_ref=_text(line.get("ItemCode")),
                fee_key=tag_of(description),
            )
        )
    return tuple(lines)


def _brief_contact(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Lists carry a brief contact and single reads a full one: keep what both have."""
    out = dict(raw)
    contact = raw.get("Contact")
    if isinstance(contact, Mapping):
        out["Contact"] = {k: contact[k] for k in ("ContactID", "Name") if k in contact}
    return out


def invoice(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> InvoiceRecord:
    xero_status = str(raw.get("Status") or "").upper()
    if xero_status not in _STATUS:
        raise MappingError(f"unknown invoice Status {raw.get('Status')!r}")
    status = _STATUS[xero_status]
    total = money(raw, "Total")
    balance = money(raw, "AmountDue")
    if total < 0 or balance < 0:
        # Xero refuses negative sales invoices (a credit note is used instead): such a body
        # is corrupt, and dunning it either way would be wrong.
        raise MappingError(f"a sales invoice with a negative amount (Total {total}, "
                           f"AmountDue {balance})")  # fmt: skip
    if status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
        balance = _ZERO  # nothing can be collected on it, whatever the body says
    elif status is InvoiceStatus.OPEN and balance <= 0:
        status = InvoiceStatus.PAID  # fully credited: approved, yet nothing is owed
    customer_id = _nested_id(raw, "Contact", "ContactID")
    if customer_id is None:
        raise MappingError("Contact.ContactID is missing")
    updated = raw.get("UpdatedDateUTC")
    return InvoiceRecord(
        provider_id=_require_id(raw, "InvoiceID"),
        number=_text(raw.get("InvoiceNumber")),
        customer_provider_id=customer_id,
        issue_date=parse_date(raw.get("Date"), "Date"),
        due_date=parse_date(raw.get("DueDate"), "DueDate"),
        currency=_currency(raw.get("CurrencyCode"), home_currency),
        total=total,
        balance=balance,
        status=status,
        updated_at=parse_datetime(updated),
        version=str(updated) if updated is not None else None,
        lines=invoice_lines(raw),
        pay_url=_text(raw.get("OnlineInvoiceUrl")),
        raw=_brief_contact(raw),
        raw_json=raw_json,
    )


# -- payments and credit notes ---------------------------------------------------------------


def payment(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> PaymentRecord | Deletion | None:
    """A customer payment; ``None`` for payments that are not against a sales invoice."""
    kind = _text(raw.get("PaymentType"))
    if kind is not None and kind != SALES_PAYMENT:
        return None
    provider_id = _require_id(raw, "PaymentID")
    updated = parse_datetime(raw.get("UpdatedDateUTC"))
    if str(raw.get("Status") or "").upper() == "DELETED":
        # Xero cannot edit a payment, only delete it (a dishonoured cheque, a mistake).
        return Deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.PAYMENT)
    target = raw.get("Invoice")
    if not isinstance(target, Mapping):
        raise MappingError("payment has no Invoice")
    if _text(target.get("Type")) not in (None, SALES_INVOICE):
        return None
    invoice_id = _require_id(target, "InvoiceID")
    amount = money(raw, "Amount")
    return PaymentRecord(
        provider_id=provider_id,
        kind=PaymentKind.PAYMENT,
        customer_provider_id=_nested_id(target, "Contact", "ContactID"),
        date=parse_date(raw.get("Date"), "Date"),
        currency=_currency(target.get("CurrencyCode"), home_currency, "Invoice.CurrencyCode"),
        amount=amount,
        unapplied=_ZERO,
        updated_at=updated,
        allocations=(Allocation(invoice_id, amount),),
        raw=raw,
        raw_json=raw_json,
    )


def credit_note(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> PaymentRecord | Deletion | None:
    """An approved sales credit note and the invoices it is allocated to.

    Drafts reduce nothing yet and are left out (``None``); voided or deleted notes are
    deletions, so whatever they had reduced no longer counts.
    """
    if _text(raw.get("Type")) not in (None, SALES_CREDIT):
        return None
    provider_id = _require_id(raw, "CreditNoteID")
    updated = parse_datetime(raw.get("UpdatedDateUTC"))
    status = str(raw.get("Status") or "").upper()
    if status in ("VOIDED", "DELETED"):
        return Deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.CREDIT_NOTE)
    if status not in ("AUTHORISED", "PAID"):
        return None
    allocations: list[Allocation] = []
    for alloc in raw.get("Allocations") or []:
        if not isinstance(alloc, Mapping):
            raise MappingError("Allocations holds something that is not an allocation")
        invoice_id = _nested_id(alloc, "Invoice", "InvoiceID")
        if invoice_id is None:
            raise MappingError("an allocation has no Invoice.InvoiceID")
        allocations.append(Allocation(invoice_id, money(alloc, "Amount")))
    total = money(raw, "Total")
    return PaymentRecord(
        provider_id=provider_id,
        kind=PaymentKind.CREDIT_NOTE,
        customer_provider_id=_nested_id(raw, "Contact", "ContactID"),
        date=parse_date(raw.get("Date"), "Date"),
        currency=_currency(raw.get("CurrencyCode"), home_currency),
        amount=total,
        unapplied=money(raw, "RemainingCredit", total),
        updated_at=updated,
        allocations=tuple(allocations),
        raw=raw,
        raw_json=raw_json,
    )


# -- prepayments and overpayments (connectors/xero/prepaid.py) --------------------------------

STREAMS = ("prepayments", "overpayments")
_PREPAID_ID = {"prepayments": "PrepaymentID", "overpayments": "OverpaymentID"}
_RECEIVED = {
    "prepayments": ("RECEIVE-PREPAYMENT", "ARPREPAYMENT"),
    "overpayments": ("RECEIVE-OVERPAYMENT", "AROVERPAYMENT"),
}


def _record(stream: str) -> Callable[[Mapping[str, Any], str | None, str | None], Any]:
    def convert(
        raw: Mapping[str, Any], home: str | None, raw_json: str | None = None
    ) -> PaymentRecord | Deletion | None:
        kind = _text(raw.get("Type"))
        if kind is not None and kind not in _RECEIVED[stream]:
            return None
        provider_id = _require_id(raw, _PREPAID_ID[stream])
        updated = parse_datetime(raw.get("UpdatedDateUTC"))
        if str(raw.get("Status") or "").upper() in ("VOIDED", "DELETED"):
            return Deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.PAYMENT)
        allocations: list[Allocation] = []
        for alloc in raw.get("Allocations") or []:
            if not isinstance(alloc, Mapping):
                raise MappingError("Allocations holds something that is not one")
            invoice_id = _nested_id(alloc, "Invoice", "InvoiceID")
            if invoice_id is None:
                raise MappingError("an allocation has no Invoice.InvoiceID")
            allocations.append(Allocation(invoice_id, money(alloc, "Amount")))
        total = money(raw, "Total")
        return PaymentRecord(
            provider_id=provider_id,
            kind=PaymentKind.PAYMENT,
            customer_provider_id=_nested_id(raw, "Contact", "ContactID"),
            date=parse_date(raw.get("Date"), "Date"),
            currency=_currency(raw.get("CurrencyCode"), home),
            amount=total,
            unapplied=money(raw, "RemainingCredit", total),
            updated_at=updated,
            allocations=tuple(allocations),
            raw=raw,
            raw_json=raw_json,
        )

    return convert


MAPPERS = {stream: _record(stream) for stream in STREAMS}


# -- one page (connectors/xero/pages.py) -----------------------------------------------------

KIND = {
    "contacts": EntityKind.CUSTOMERS,
    "invoices": EntityKind.INVOICES,
    "payments": EntityKind.PAYMENTS,
    "credit_notes": EntityKind.PAYMENTS,
    **dict.fromkeys(("prepayments", "overpayments"), EntityKind.PAYMENTS),
}
ID_FIELD = {
    "contacts": "ContactID",
    "invoices": "InvoiceID",
    "payments": "PaymentID",
    "credit_notes": "CreditNoteID",
    **_PREPAID_ID,
}


def build(
    stream: str,
    rows: list[dict[str, Any]],
    cursor: str | None,
    texts: Sequence[str] | None,
    home: str | None,
) -> Page:
    customers: list[CustomerRecord] = []
    invoices: list[InvoiceRecord] = []
    payments: list[PaymentRecord] = []
    deletions: list[Deletion] = []
    skipped: list[SkippedRecord] = []
    for index, raw in enumerate(rows):
        text = texts[index] if texts is not None else None
        try:
            if stream == "contacts":
                customers.append(customer(raw, text))
                continue
            if stream == "invoices":
                if is_sales_invoice(raw):
                    invoices.append(invoice(raw, home, text))
                continue
            if stream in MAPPERS:
                record = MAPPERS[stream](raw, home, text)
            elif stream == "payments":
                record = payment(raw, home, text)
            else:
                record = credit_note(raw, home, text)
        except MappingError as exc:
            raw_id = raw.get(ID_FIELD[stream])
            skipped.append(
                SkippedRecord(
                    KIND[stream], str(raw_id) if raw_id else None, f"{stream}: {exc}", raw
                )
            )
            continue
        if isinstance(record, Deletion):
            deletions.append(record)
        elif record is not None:
            payments.append(record)
    return Page(
        customers=tuple(customers),
        invoices=tuple(invoices),
        payments=tuple(payments),
        deletions=tuple(deletions),
        skipped=tuple(skipped),
        cursor=cursor,
    )
