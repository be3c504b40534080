"""Batched fresh reads of named records (``Connector.fetch_records``).

Invoices and contacts are read with Xero's ``IDs`` filter; payments and credit notes have no
``IDs`` parameter, so they are read with a ``where`` filter of ``Guid`` comparisons (the form
Xero documents for filtering on an id). Ids go in chunks so that no URL grows past what Xero
and proxies in front of it accept, every query asks for ``page=1`` with a page size larger
than the chunk (one call per chunk, with line items, whatever order the rows come in), and an
id that does not come back is reported as a :class:`~connectors.base.Deletion`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from connectors.base import Deletion, EntityKind, Page

from . import prepaid, wire

if TYPE_CHECKING:
    from .client import XeroConnector

#: Ids per ``IDs=`` query: 50 GUIDs keep the URL under 2,000 characters.
ID_CHUNK = 50
#: Ids per ``where`` query: each costs ~60 characters of URL and one OR in Xero's parser.
WHERE_CHUNK = 25
INVOICE_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"]
_STREAMS = {
    EntityKind.CUSTOMERS: ("contacts",),
    EntityKind.INVOICES: ("invoices",),
    EntityKind.PAYMENTS: ("payments", "credit_notes", *prepaid.STREAMS),
}
_ID_FIELD = {
    "contacts": "ContactID",
    "invoices": "InvoiceID",
    "payments": "PaymentID",
    "credit_notes": "CreditNoteID",
    **prepaid.ID_FIELD,
}
COLLECTION = {
    "contacts": "Contacts",
    "invoices": "Invoices",
    "payments": "Payments",
    "credit_notes": "CreditNotes",
    **prepaid.COLLECTION,
}


def canonical_ids(provider_ids: Sequence[str]) -> list[str]:
    """Distinct ids in their given order; anything that is not a GUID cannot exist at Xero."""
    out: list[str] = []
    for value in provider_ids:
        text = str(value).strip().lower()
        if text and text not in out:
            out.append(text)
    return out


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def query(connector: XeroConnector, stream: str, chunk: list[str]) -> list[wire.Row]:
    """The records named in ``chunk`` (one call), each with its JSON text as received."""
    api, tenant = connector.api, connector.tenant_id
    size = max(len(chunk), 1) + 1
    call: Callable[[], Any]
    if stream == "invoices":

        def call() -> Any:
            return api.get_invoices(
                tenant,
                i_ds=chunk,
                statuses=INVOICE_STATUSES,
                page=1,
                page_size=size,
                _preload_content=False,
            )
    elif stream == "contacts":

        def call() -> Any:
            return api.get_contacts(
                tenant,
                i_ds=chunk,
                include_archived=True,
                page=1,
                page_size=size,
                _preload_content=False,
            )
    else:
        field = _ID_FIELD[stream]
        where = " OR ".join(f'{field}==Guid("{ident}")' for ident in chunk)
        getter = {
            "payments": api.get_payments,
            "credit_notes": api.get_credit_notes,
        }.get(stream) or prepaid.getter(connector, stream)

        def call() -> Any:
            return getter(tenant, where=where, page=1, page_size=size, _preload_content=False)

    return connector._body(call, COLLECTION[stream]).rows


def fetch_records(
    connector: XeroConnector, entity: EntityKind, provider_ids: Sequence[str]
) -> Page:
    wanted = canonical_ids(provider_ids)
    found: set[str] = set()
    pages: list[Page] = []
    for stream in _STREAMS[entity]:
        remaining = [i for i in wanted if i not in found and _is_guid(i)]
        size = ID_CHUNK if stream in ("invoices", "contacts") else WHERE_CHUNK
        for chunk in chunks(remaining, size):
            asked = set(chunk)
            field = _ID_FIELD[stream]
            rows = [
                row
                for row in query(connector, stream, chunk)
                if str(row.field(field) or "").lower() in asked
            ]
            found.update(str(r.field(field)).lower() for r in rows)
            pages.append(connector._page(stream, rows, None))
    now = connector._now()
    # A missing payment id may have been a payment or a credit note: kind None covers both.
    missing = tuple(Deletion(entity, ident, now) for ident in wanted if ident not in found)
    return merge(pages, missing)


def merge(pages: Sequence[Page], deletions: tuple[Deletion, ...] = ()) -> Page:
    return Page(
        customers=tuple(c for p in pages for c in p.customers),
        invoices=tuple(i for p in pages for i in p.invoices),
        payments=tuple(x for p in pages for x in p.payments),
        deletions=tuple(d for p in pages for d in p.deletions) + deletions,
        skipped=tuple(s for p in pages for s in p.skipped),
        cursor=None,
    )
