"""Provider rows to one :class:`Page`, where a bad record is skipped with its reason.

A record the mapper cannot trust (no customer, an unknown currency, a negative or absurd
amount, a shape nobody expected) becomes a :class:`SkippedRecord` naming the entity, the id
and why; the rest of the page is committed as usual. Nothing a provider sends may stop a sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import InvalidOperation
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

from . import mapping

ENTITY_KIND = {
    "Customer": EntityKind.CUSTOMERS,
    "Invoice": EntityKind.INVOICES,
    "Payment": EntityKind.PAYMENTS,
    "CreditMemo": EntityKind.PAYMENTS,
}
TypeNames = Callable[[Mapping[str, Any]], Mapping[str, str]]
Record = CustomerRecord | InvoiceRecord | PaymentRecord | Deletion


def _map(entity: str, raw: Mapping[str, Any], home: str, type_names: TypeNames) -> Record:
    kind = ENTITY_KIND[entity]
    if mapping.is_deleted(raw):
        pk = {"CreditMemo": PaymentKind.CREDIT_NOTE, "Payment": PaymentKind.PAYMENT}.get(entity)
        return mapping.deletion(kind, raw, pk)
    if entity == "Customer":
        return mapping.customer(raw, home, type_names(raw))
    if entity == "Invoice":
        return mapping.invoice(raw, home)
    if entity == "Payment":
        return mapping.payment(raw, home)
    return mapping.credit_memo(raw, home)


def _skip(entity: str, raw: Any, reason: str) -> SkippedRecord:
    raw_id = raw.get("Id") if isinstance(raw, Mapping) else None
    kept = raw if isinstance(raw, Mapping) else {"unreadable": repr(raw)[:500]}
    return SkippedRecord(ENTITY_KIND[entity], str(raw_id) if raw_id else None, reason, kept)


def build(
    rows: list[tuple[str, Mapping[str, Any]]],
    cursor: str | None,
    home_currency: str,
    type_names: TypeNames,
) -> Page:
    found: dict[type, list[Any]] = {
        CustomerRecord: [],
        InvoiceRecord: [],
        PaymentRecord: [],
        Deletion: [],
    }
    skipped: list[SkippedRecord] = []
    for entity, raw in rows:
        try:
            if not isinstance(raw, Mapping):
                raise mapping.MappingError("the record is not a JSON object")
            record = _map(entity, raw, home_currency, type_names)
        except mapping.MappingError as exc:
            skipped.append(_skip(entity, raw, f"{entity}: {exc}"))
            continue
        except (TypeError, ValueError, AttributeError, KeyError, InvalidOperation) as exc:
            # A shape the mapper does not know (a string where an object belongs, ...).
            reason = f"{entity}: unreadable record ({type(exc).__name__}: {str(exc)[:200]})"
            skipped.append(_skip(entity, raw, reason))
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
