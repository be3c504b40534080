"""Turning the rows of one stream into a :class:`~connectors.base.Page`.

A row that cannot be mapped is reported as skipped rather than failing its page, so one bad
record never stops a backfill; supplier-side rows that a list returns anyway are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import (
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceRecord,
    Page,
    PaymentRecord,
    SkippedRecord,
)

from . import mapping, prepaid, shapes, wire
from .values import text

STREAMS = ("contacts", "invoices", "payments", "credit_notes", *prepaid.STREAMS)
#: The streams each entity's backfill reads, in order.
BACKFILL: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CUSTOMERS: ("contacts",),
    EntityKind.INVOICES: ("invoices",),
    EntityKind.PAYMENTS: ("payments", "credit_notes", *prepaid.STREAMS),
}
KIND = {
    "contacts": EntityKind.CUSTOMERS,
    "invoices": EntityKind.INVOICES,
    "payments": EntityKind.PAYMENTS,
    "credit_notes": EntityKind.PAYMENTS,
    **dict.fromkeys(prepaid.STREAMS, EntityKind.PAYMENTS),
}
COLLECTION = {
    "contacts": "Contacts",
    "invoices": "Invoices",
    "payments": "Payments",
    "credit_notes": "CreditNotes",
    **prepaid.COLLECTION,
}
ID_FIELD = {
    "contacts": "ContactID",
    "invoices": "InvoiceID",
    "payments": "PaymentID",
    "credit_notes": "CreditNoteID",
    **prepaid.ID_FIELD,
}


def build(stream: str, rows: Sequence[wire.Row], cursor: str | None, home: str | None) -> Page:
    customers: list[CustomerRecord] = []
    invoices: list[InvoiceRecord] = []
    payments: list[PaymentRecord] = []
    deletions: list[Deletion] = []
    skipped: list[SkippedRecord] = []
    for row in rows:
        try:
            record = record_of(stream, row, home)
        except mapping.MappingError as exc:
            raw_id = text(row.field(ID_FIELD[stream]))
            reason = f"{stream}: {exc}"
            skipped.append(SkippedRecord(KIND[stream], raw_id, reason, wire.LazyJson(row.text)))
            continue
        if isinstance(record, CustomerRecord):
            customers.append(record)
        elif isinstance(record, InvoiceRecord):
            invoices.append(record)
        elif isinstance(record, Deletion):
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


def record_of(stream: str, row: wire.Row, home: str | None) -> Any:
    """The row's record (None for what syncd leaves out: bills, drafts, supplier payments);
    :class:`mapping.MappingError` when it cannot be trusted (a misfit: msgspec's reason)."""
    rec = row.shape
    if rec is None:
        if _left_out(stream, row):
            return None
        raise mapping.MappingError(row.error or "not a record")
    body = row.text
    if isinstance(rec, shapes.Contact):
        kept = mapping.stable_text(rec, body)
        return mapping.customer_of(rec, wire.LazyJson(kept), kept)
    if isinstance(rec, shapes.Invoice):
        if not mapping.is_sales_invoice(rec):
            return None
        return mapping.invoice_of(rec, home, wire.LazyJson(body, mapping.brief_contact), body)
    raw = wire.LazyJson(body)
    if isinstance(rec, shapes.Payment):
        return mapping.payment_of(rec, home, raw, body)
    assert isinstance(rec, shapes.Document)
    if stream in prepaid.MAPPERS:
        return prepaid.MAPPERS[stream](rec, home, raw, body)
    return mapping.credit_note_of(rec, home, raw, body)


#: Per stream, the field and values of the rows syncd reads (the rest are supplier-side).
_SALES_SIDE = {
    "invoices": ("Type", (mapping.SALES_INVOICE,)),
    "payments": ("PaymentType", (None, mapping.SALES_PAYMENT)),
    "credit_notes": ("Type", (None, mapping.SALES_CREDIT)),
}


def _left_out(stream: str, row: wire.Row) -> bool:
    """A misfit that would have been left out by its type anyway (a bill, a supplier
    payment) is left out, not skipped: it was never syncd's to read."""
    if stream not in _SALES_SIDE:
        return False
    field, wanted = _SALES_SIDE[stream]
    return text(row.field(field)) not in wanted
