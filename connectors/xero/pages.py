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

from . import mapping, prepaid

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
                customers.append(mapping.customer(raw, text))
                continue
            if stream == "invoices":
                if mapping.is_sales_invoice(raw):
                    invoices.append(mapping.invoice(raw, home, text))
                continue
            if stream in prepaid.MAPPERS:
                record = prepaid.MAPPERS[stream](raw, home, text)
            elif stream == "payments":
                record = mapping.payment(raw, home, text)
            else:
                record = mapping.credit_note(raw, home, text)
        except mapping.MappingError as exc:
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
