"""Provider rows to one :class:`Page`, where a bad record is skipped with its reason.

A record the mapper cannot trust (no customer, an unknown currency, a negative or absurd
amount, a shape nobody expected) becomes a :class:`SkippedRecord` naming the entity, the id
and why; the rest of the page is committed as usual. Nothing a provider sends may stop a sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.base import (
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceRecord,
    Page,
    PaymentKind,
    PaymentRecord,
    SkippedRecord,
)
from connectors.kit.lazyjson import LazyJson

from . import mapping, shapes
from .wire import Received

ENTITY_KIND = {
    "Customer": EntityKind.CUSTOMERS,
    "Invoice": EntityKind.INVOICES,
    "Payment": EntityKind.PAYMENTS,
    "CreditMemo": EntityKind.PAYMENTS,
}
TypeNames = Callable[[str | None], Mapping[str, str]]
Record = CustomerRecord | InvoiceRecord | PaymentRecord | Deletion
_KIND = {"CreditMemo": PaymentKind.CREDIT_NOTE, "Payment": PaymentKind.PAYMENT}


def _map(row: Received, home: str, type_names: TypeNames) -> Record:
    rec, entity = row.shape, row.entity
    if rec is None:
        raise mapping.MappingError(f"unexpected shape ({row.error})")
    if rec.status is not None and mapping.is_deleted(rec):  # most records have no status
        return mapping.deletion(ENTITY_KIND[entity], rec, _KIND.get(entity))
    text = row.text
    raw = LazyJson(text)  # what row.raw() makes, without the extra call per record
    if isinstance(rec, shapes.Invoice):  # the most common first
        return mapping.invoice_of(rec, home, raw, text)
    if isinstance(rec, shapes.Customer):
        types = type_names(mapping.type_id(rec))
        return mapping.customer_of(rec, home, types, raw, text)
    if isinstance(rec, shapes.Payment):
        return mapping.payment_of(rec, home, raw, text)
    if isinstance(rec, shapes.CreditMemo):
        return mapping.credit_memo_of(rec, home, raw, text)
    raise mapping.MappingError(f"no mapping for {entity}")  # pragma: no cover - SHAPES


def build(
    rows: list[Received], cursor: str | None, home_currency: str, type_names: TypeNames
) -> Page:
    found: dict[type, list[Any]] = {
        CustomerRecord: [],
        InvoiceRecord: [],
        PaymentRecord: [],
        Deletion: [],
    }
    skipped: list[SkippedRecord] = []
    for row in rows:
        try:
            record = _map(row, home_currency, type_names)
        except (
            mapping.MappingError,
            TypeError,
            ValueError,
            AttributeError,
            KeyError,
            ArithmeticError,
        ) as exc:
            reason = (
                str(exc)
                if isinstance(exc, mapping.MappingError)
                else (f"unreadable record ({type(exc).__name__}: {str(exc)[:200]})")
            )
            skipped.append(
                SkippedRecord(ENTITY_KIND[row.entity], row.id, f"{row.entity}: {reason}", row.raw())
            )
            continue
        found[type(record)].append(record)
    return Page(
        customers=tuple(found[CustomerRecord]),
        invoices=tuple(found[InvoiceRecord]),
        payments=tuple(found[PaymentRecord]),
        deletions=tuple(found[Deletion]),
        skipped=tuple(skipped),
        cursor=cursor,
    )
