"""Xero Accounting API records to normalised records: one mapper, over :mod:`.shapes` Structs.

The connector reads response bodies itself instead of letting xero-python build its models:
the models turn an unknown enum value (a currency or status Xero adds later) into an exception
that would fail a whole page of 1,000 records, and the text is what the store keeps anyway.
List bodies are decoded straight into Structs (:mod:`.wire`); a record held as a dict (an
answer read whole, a test) is read through the same decoder first (:func:`wire.row_of`), so
both go through the field logic below.

Every function raises :class:`MappingError` with a human reason when a record cannot be
trusted; the connector turns that into a skipped record instead of stopping the sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    PaymentKind,
    PaymentRecord,
)
from connectors.kit import TAG_RE, trusted
from connectors.kit import find_tag as tag_of
from connectors.kit import tag as tag
from connectors.kit import tag_key as tag_key

from . import contacts, shapes, wire
from .values import (
    AMOUNT_LIMIT,
    MappingError,
    amount,
    currency,
    is_currency,
    money,
    parse_date,
    parse_datetime,
    require_id,
    text,
)

__all__ = [
    "AMOUNT_LIMIT",
    "MappingError",
    "money",
    "parse_date",
    "parse_datetime",
    "tag",
    "tag_key",
]

#: Marks what syncd wrote (a fee line, a history note, a fee invoice), so that it is
#: recognisable after a crash or once Xero no longer replays the idempotency key.
FEE_TAG = TAG_RE
_ZERO = Decimal(0)

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


def contact_id(ref: Any) -> str | None:
    """A nested ``Contact``'s id; anything but an object there names no contact."""
    return text(ref.ContactID) if isinstance(ref, shapes.ContactRef) else None


# -- contacts --------------------------------------------------------------------------------


def _person_emails(persons: Any) -> list[str]:
    """Addresses of the contact persons Xero includes in emails, in order."""
    out: list[str] = []
    for person in persons or []:
        if isinstance(person, Mapping) and person.get("IncludeInEmails") is True:
            address = text(person.get("EmailAddress"))
            if address:
                out.append(address)
    return out


def contact_email(raw: Mapping[str, Any]) -> str | None:
    """The primary address, else the first contact person Xero includes in emails."""
    return text(raw.get("EmailAddress")) or next(
        iter(_person_emails(raw.get("ContactPersons"))), None
    )


def email_recipients(raw: Mapping[str, Any]) -> list[str]:
    """Everyone ``POST /Invoices/{id}/Email`` reaches: the contact plus opted-in persons."""
    out = [a for a in [text(raw.get("EmailAddress"))] if a]
    return out + _person_emails(raw.get("ContactPersons"))


def customer_of(
    rec: shapes.Contact, raw: Mapping[str, Any], raw_json: str | None
) -> CustomerRecord:
    name = text(rec.Name)
    if name is None:
        joined = " ".join(p for p in (text(rec.FirstName), text(rec.LastName)) if p)
        name = joined or None
    if name is None:
        raise MappingError("contact has no Name")
    status = str(rec.ContactStatus or "ACTIVE").upper()
    code = text(rec.DefaultCurrency)
    if code is not None and not is_currency(code):
        raise MappingError(f"DefaultCurrency is not an ISO 4217 currency code: {code!r}")
    parts = {
        "ContactGroups": rec.ContactGroups,
        "Addresses": rec.Addresses,
        "Phones": rec.Phones,
        "CompanyNumber": rec.CompanyNumber,
        "TaxNumber": rec.TaxNumber,
    }
    return trusted.customer_record(
        provider_id=require_id(rec.ContactID, "ContactID"),
        name=name,
        email=text(rec.EmailAddress) or next(iter(_person_emails(rec.ContactPersons)), None),
        currency=code,
        updated_at=parse_datetime(rec.UpdatedDateUTC),
        active=status == "ACTIVE",
        # A GDPR erasure request is Xero's only way of removing a contact for good.
        deleted=status == "GDPRREQUEST",
        **contacts.details(parts),
        raw=raw,
        raw_json=raw_json,
    )


def stable_text(rec: shapes.Contact, raw_json: str) -> str:
    """The contact's text without its volatile members (see ``_VOLATILE_CONTACT_KEYS``)."""
    sent = rec.Balances is not msgspec.UNSET
    return wire.without(raw_json, _VOLATILE_CONTACT_KEYS) if sent else raw_json


# -- invoices --------------------------------------------------------------------------------


def is_sales_invoice(raw: Mapping[str, Any] | shapes.Invoice) -> bool:
    kind = raw.get("Type") if isinstance(raw, Mapping) else raw.Type
    return str(kind or "") == SALES_INVOICE


def invoice_lines(rec: shapes.Invoice) -> tuple[InvoiceLine, ...]:
    lines: list[InvoiceLine] = []
    for line in rec.LineItems or ():
        description = text(line.Description)
        lines.append(
            trusted.invoice_line(
                provider_line_id=text(line.LineItemID),
                description=description,
                amount=amount(line.LineAmount, "LineAmount", _ZERO),
                item_ref=text(line.ItemCode),
                fee_key=tag_of(description),
            )
        )
    return tuple(lines)


def brief_contact(raw: dict[str, Any]) -> dict[str, Any]:
    """Lists carry a brief contact and single reads a full one: keep what both have."""
    contact = raw.get("Contact")
    if isinstance(contact, Mapping):
        raw["Contact"] = {k: contact[k] for k in ("ContactID", "Name") if k in contact}
    return raw


def invoice_of(
    rec: shapes.Invoice, home_currency: str | None, raw: Mapping[str, Any], raw_json: str | None
) -> InvoiceRecord:
    xero_status = str(rec.Status or "").upper()
    if xero_status not in _STATUS:
        raise MappingError(f"unknown invoice Status {rec.Status!r}")
    status = _STATUS[xero_status]
    total = amount(rec.Total, "Total")
    balance = amount(rec.AmountDue, "AmountDue")
    if total < 0 or balance < 0:
        # Xero refuses negative sales invoices (a credit note is used instead): such a body
        # is corrupt, and dunning it either way would be wrong.
        raise MappingError(f"a sales invoice with a negative amount (Total {total}, "
                           f"AmountDue {balance})")  # fmt: skip
    if status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
        balance = _ZERO  # nothing can be collected on it, whatever the body says
    elif status is InvoiceStatus.OPEN and balance <= 0:
        status = InvoiceStatus.PAID  # fully credited: approved, yet nothing is owed
    customer_id = contact_id(rec.Contact)
    if customer_id is None:
        raise MappingError("Contact.ContactID is missing")
    updated = rec.UpdatedDateUTC
    return trusted.invoice_record(
        provider_id=require_id(rec.InvoiceID, "InvoiceID"),
        number=text(rec.InvoiceNumber),
        customer_provider_id=customer_id,
        issue_date=parse_date(rec.Date, "Date"),
        due_date=parse_date(rec.DueDate, "DueDate"),
        currency=currency(rec.CurrencyCode, home_currency),
        total=total,
        balance=balance,
        status=status,
        updated_at=parse_datetime(updated),
        version=str(updated) if updated is not None else None,
        lines=invoice_lines(rec),
        pay_url=text(rec.OnlineInvoiceUrl),
        raw=raw,
        raw_json=raw_json,
    )


# -- payments and credit notes ---------------------------------------------------------------


def payment_of(
    rec: shapes.Payment, home_currency: str | None, raw: Mapping[str, Any], raw_json: str | None
) -> PaymentRecord | Deletion | None:
    """A customer payment; ``None`` for payments that are not against a sales invoice."""
    kind = text(rec.PaymentType)
    if kind is not None and kind != SALES_PAYMENT:
        return None
    provider_id = require_id(rec.PaymentID, "PaymentID")
    updated = parse_datetime(rec.UpdatedDateUTC)
    if str(rec.Status or "").upper() == "DELETED":
        # Xero cannot edit a payment, only delete it (a dishonoured cheque, a mistake).
        return trusted.deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.PAYMENT)
    target = rec.Invoice
    if not isinstance(target, shapes.InvoiceRef):
        raise MappingError("payment has no Invoice")
    if text(target.Type) not in (None, SALES_INVOICE):
        return None
    invoice_id = require_id(target.InvoiceID, "InvoiceID")
    paid = amount(rec.Amount, "Amount")
    return trusted.payment_record(
        provider_id=provider_id,
        kind=PaymentKind.PAYMENT,
        customer_provider_id=contact_id(target.Contact),
        date=parse_date(rec.Date, "Date"),
        currency=currency(target.CurrencyCode, home_currency, "Invoice.CurrencyCode"),
        amount=paid,
        unapplied=_ZERO,
        updated_at=updated,
        allocations=(trusted.allocation(invoice_id, paid),),
        raw=raw,
        raw_json=raw_json,
    )


def allocations(rec: shapes.Document) -> tuple[Allocation, ...]:
    """The invoices a credit note, prepayment or overpayment is allocated to."""
    out: list[Allocation] = []
    for alloc in rec.Allocations or ():
        target = alloc.Invoice
        invoice_id = text(target.InvoiceID) if isinstance(target, shapes.InvoiceRef) else None
        if invoice_id is None:
            raise MappingError("an allocation has no Invoice.InvoiceID")
        out.append(trusted.allocation(invoice_id, amount(alloc.Amount, "Amount")))
    return tuple(out)


def held_money(
    rec: shapes.Document, provider_id: str, home_currency: str | None, kind: PaymentKind
) -> dict[str, Any]:
    """The :class:`PaymentRecord` fields of money held for a customer (credit, deposit)."""
    found = allocations(rec)
    total = amount(rec.Total, "Total")
    return {
        "provider_id": provider_id,
        "kind": kind,
        "customer_provider_id": contact_id(rec.Contact),
        "date": parse_date(rec.Date, "Date"),
        "currency": currency(rec.CurrencyCode, home_currency),
        "amount": total,
        "unapplied": amount(rec.RemainingCredit, "RemainingCredit", total),
        "updated_at": parse_datetime(rec.UpdatedDateUTC),
        "allocations": found,
    }


def credit_note_of(
    rec: shapes.Document, home_currency: str | None, raw: Mapping[str, Any], raw_json: str | None
) -> PaymentRecord | Deletion | None:
    """An approved sales credit note and the invoices it is allocated to.

    Drafts reduce nothing yet and are left out (``None``); voided or deleted notes are
    deletions, so whatever they had reduced no longer counts.
    """
    if text(rec.Type) not in (None, SALES_CREDIT):
        return None
    provider_id = require_id(rec.CreditNoteID, "CreditNoteID")
    updated = parse_datetime(rec.UpdatedDateUTC)
    status = str(rec.Status or "").upper()
    if status in ("VOIDED", "DELETED"):
        return trusted.deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.CREDIT_NOTE)
    if status not in ("AUTHORISED", "PAID"):
        return None
    fields = held_money(rec, provider_id, home_currency, PaymentKind.CREDIT_NOTE)
    return trusted.payment_record(**fields, raw=raw, raw_json=raw_json)


# -- records held as dicts, through the same mapper -------------------------------------------

_S = TypeVar("_S", bound=shapes.Stamped)


def shaped(raw: Mapping[str, Any], shape: type[_S]) -> _S:
    """A dict record as its Struct (values kept as they are: a float stays a float, for the
    mapper to refuse), or the reason it has none, as a page would skip it."""
    try:
        return msgspec.convert(raw, shape)
    except msgspec.ValidationError as exc:
        raise MappingError(str(exc)) from None


def customer(raw: Mapping[str, Any], raw_json: str | None = None) -> CustomerRecord:
    kept = {k: v for k, v in raw.items() if k not in _VOLATILE_CONTACT_KEYS}
    rec = shaped(raw, shapes.Contact)
    return customer_of(rec, kept, stable_text(rec, raw_json) if raw_json else raw_json)


def invoice(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> InvoiceRecord:
    rec = shaped(raw, shapes.Invoice)
    return invoice_of(rec, home_currency, brief_contact(dict(raw)), raw_json)


def payment(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> PaymentRecord | Deletion | None:
    return payment_of(shaped(raw, shapes.Payment), home_currency, raw, raw_json)


def credit_note(
    raw: Mapping[str, Any], home_currency: str | None, raw_json: str | None = None
) -> PaymentRecord | Deletion | None:
    rec = shaped(raw, shapes.Document)
    return credit_note_of(rec, home_currency, raw, raw_json)
