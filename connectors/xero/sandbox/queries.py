"""GET-collection semantics: filters, ordering, If-Modified-Since and paging.

Choices where Xero's documentation is silent or old, settled by the recorded
Demo Company responses:

* Invoices: VOIDED and DELETED invoices are returned by default (the recorded
  ``GET /Invoices?page=1`` lists both); ask with ``Statuses`` to narrow.
* Default order is ``UpdatedDateUTC ASC`` (the recorded list is in that order);
  ties fall back to the record id so pages are stable.
* ``If-Modified-Since`` returns records whose UpdatedDateUTC is strictly
  *after* the header value ("modified since"); clients should overlap their
  cursor and de-duplicate.
* Without ``page`` every matching record comes back, with no ``pagination``
  block and, for invoices, without line items (Xero's documented behaviour for
  unpaged invoice lists).  With ``page``, ``pageSize`` defaults to 100 and is
  capped at 1000; a page past the end is empty but still carries
  ``pagination`` (as recorded for contacts page 2).
* Contacts with status ARCHIVED are left out unless ``includeArchived=true``.

Query parameter names are matched case-insensitively; callers pass a mapping
with lower-cased keys.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from .models import INVOICE_STATUSES, Contact, Invoice
from .modes import shuffle_ties
from .ordercache import OrderCache
from .organisation import Organisation
from .queryfields import (
    FIXED_FIELDS,
    contact_fields,
    credit_note_fields,
    invoice_fields,
    payment_fields,
)
from .records import Records
from .where import Field, WhereError, compile_where_reading, parse_order

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class QueryError(ValueError):
    """400 with Xero's error body; ``kind`` picks the body."""

    def __init__(self, message: str, kind: str = "query") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Page:
    items: list[Any]
    pagination: dict[str, int] | None


def _csv(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def csv_guids(value: str | None, name: str) -> set[str]:
    out: set[str] = set()
    for part in _csv(value):
        try:
            out.add(str(uuid.UUID(part)))
        except ValueError as exc:
            raise QueryError(
                f"'{part}' is not a valid value for {name}", kind="validation"
            ) from exc
    return out


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _int_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise QueryError(
            f"The value '{value}' is not valid for {name}.", kind="validation"
        ) from exc


def select(
    records: Iterable[T],
    fields: Mapping[str, Field],
    type_name: str,
    *,
    where: str | None,
    order: str | None,
    modified_since: datetime | None,
    updated: Callable[[T], datetime],
    ident: Callable[[T], str],
    extra: Callable[[T], bool] | None = None,
    shuffle: bool = False,
    cache: OrderCache | None = None,
    selective: bool = False,
    source: Records[Any] | None = None,
) -> list[T]:
    """Filter and order; raises QueryError on a bad where/order.

    ``shuffle`` (an unkind mode): rows that tie on the sort field come back shuffled.
    ``cache`` keeps the default order between calls (:mod:`.ordercache`), given ``source``,
    the table of ``records``; ``selective`` (an ``extra`` keeping few rows) sorts those few.
    """
    try:
        predicate, reads = (
            compile_where_reading(where, fields, type_name)
            if where and where.strip()
            else (None, frozenset())
        )
        ordering = parse_order(order, fields, type_name) if order and order.strip() else None
    except WhereError as exc:
        raise QueryError(str(exc)) from exc
    # ``order=UpdatedDateUTC ASC`` (what a keyset reader sends) is the default order spelled
    # out: sort by id, then stably by the stamp. Selective filters (IDs, numbers...) leave few
    # rows to sort, so they skip the cache; a filter that keeps most rows (every status, say)
    # filters the cached order instead, which keeps that order.
    if cache is not None and ordering is not None and _is_default_order(ordering, fields):
        ordering = None
    cached = ordering is None and cache is not None and not selective
    if cached and cache is not None:  # filtering the ordered rows keeps their order: no sort
        if where and predicate is not None and reads <= FIXED_FIELDS.get(type_name, frozenset()):
            cache.checked(type_name, records, updated, ident, source)
            records = cache.matching(type_name, where, predicate, modified_since)
            predicate = None  # applied by the cache
        else:
            records = cache.ordered(type_name, records, updated, ident, modified_since, source)
        modified_since = None  # applied by the cache
    if modified_since is None and extra is None and predicate is None:
        # The cache hands out a fresh list: copying it again is another 100,000 rows.
        chosen = records if isinstance(records, list) and cached else list(records)
    else:
        chosen = [
            r
            for r in records
            if (modified_since is None or updated(r) > modified_since)
            and (extra is None or extra(r))
            and (predicate is None or predicate(r))
        ]
    return _arrange(chosen, ordering, cached=cached, updated=updated, ident=ident, shuffle=shuffle)


def _arrange(
    chosen: list[T],
    ordering: list[tuple[Field, bool]] | None,
    *,
    cached: bool,
    updated: Callable[[T], datetime],
    ident: Callable[[T], str],
    shuffle: bool,
) -> list[T]:
    """Sort the chosen rows (unless they came in the cached order), then shuffle ties if asked."""
    if not cached:
        chosen.sort(key=ident)
    if ordering is None:
        if not cached:
            chosen.sort(key=updated)
    else:
        for fld, descending in reversed(ordering):
            chosen.sort(key=_key_for(fld), reverse=descending)
    if shuffle:
        fields_used = [fld for fld, _ in ordering] if ordering else None
        if fields_used is None:
            return shuffle_ties(chosen, updated)
        return shuffle_ties(chosen, lambda r: tuple(_sort_key(f.get(r)) for f in fields_used))
    return chosen


def _is_default_order(ordering: list[tuple[Field, bool]], fields: Mapping[str, Field]) -> bool:
    """``order=UpdatedDateUTC ASC`` alone: the default order, which the cache keeps."""
    only = ordering[0] if len(ordering) == 1 else None
    return only is not None and not only[1] and only[0] is fields.get("UpdatedDateUTC")


def _key_for(fld: Field) -> Callable[[Any], tuple[int, Any]]:
    return lambda record: _sort_key(fld.get(record))


def _sort_key(value: object) -> tuple[int, Any]:
    """Nulls first, like SQL Server's ascending order."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.lower())
    if isinstance(value, (Decimal, int, bool)):
        return (1, value)
    return (1, value)


def paginate(items: list[T], page_param: str | None, size_param: str | None) -> Page:
    page = _int_param(page_param, "page")
    size = _int_param(size_param, "pageSize")
    if page is None:
        return Page(items, None)
    page = max(page, 1)
    size = DEFAULT_PAGE_SIZE if size is None or size < 1 else min(size, MAX_PAGE_SIZE)
    start = (page - 1) * size
    return Page(
        items[start : start + size],
        {
            "page": page,
            "pageSize": size,
            "pageCount": math.ceil(len(items) / size),
            "itemCount": len(items),
        },
    )


def _named(table: Records[T], ids: set[str]) -> Iterable[T]:
    """The records ``IDs=`` names, looked up (every table is keyed by its records' ids),
    rather than every record tested; all records when no ids are named. The order they come
    in does not matter: ``select`` sorts the few it keeps by id."""
    if not ids:
        return table.values()
    return [found for found in map(table.get, ids) if found is not None]


def list_invoices(
    org: Organisation, params: Mapping[str, str], modified_since: datetime | None
) -> Page:
    ids = csv_guids(params.get("ids"), "IDs")
    numbers = {n.lower() for n in _csv(params.get("invoicenumbers"))}
    contacts = csv_guids(params.get("contactids"), "ContactIDs")
    statuses = {s.upper() for s in _csv(params.get("statuses"))}
    if statuses.issuperset(INVOICE_STATUSES):
        # Every status an invoice can have (what a reader that wants voided rows sends): a
        # test per row (70,000 of them at 100,000 invoices) that keeps them all.
        statuses = set()
    search = (params.get("searchterm") or "").strip().lower()
    mine = flag(params.get("createdbymyapp"))

    def extra(inv: Invoice) -> bool:
        return (
            (not ids or inv.invoice_id in ids)
            and (not numbers or inv.number.lower() in numbers)
            and (not contacts or inv.contact_id in contacts)
            and (not statuses or inv.status in statuses)
            and (not mine or inv.created_by_app)
            and (not search or search in inv.number.lower() or search in inv.reference.lower())
        )

    filtered = ids or numbers or contacts or statuses or mine or search
    if statuses and not (ids or numbers or contacts or mine or search):
        # Statuses alone (what a reader sends to see voided rows): one test per row.
        def extra(inv: Invoice) -> bool:
            return inv.status in statuses

    # Statuses (often all six, as a reader that wants voided rows sends) keep most rows.
    selective = bool(ids or numbers or contacts or mine or search)
    chosen = select(
        _named(org.invoices, ids),
        invoice_fields(org),
        "Invoice",
        where=params.get("where"),
        order=params.get("order"),
        modified_since=modified_since,
        updated=lambda i: i.updated,
        ident=lambda i: i.invoice_id,
        extra=extra if filtered else None,
        shuffle=org.modes.shuffle_ties,
        cache=org.order_cache,
        source=org.invoices,
        selective=selective,
    )
    return paginate(chosen, params.get("page"), params.get("pagesize"))


def list_contacts(
    org: Organisation, params: Mapping[str, str], modified_since: datetime | None
) -> Page:
    ids = csv_guids(params.get("ids"), "IDs")
    archived = flag(params.get("includearchived"))
    search = (params.get("searchterm") or "").strip().lower()

    def extra(c: Contact) -> bool:
        return (
            (archived or c.status != "ARCHIVED")
            and (not ids or c.contact_id in ids)
            and (
                not search
                or search in c.name.lower()
                or search in c.email.lower()
                or search in f"{c.first_name} {c.last_name}".lower()
            )
        )

    chosen = select(
        _named(org.contacts, ids),
        contact_fields(),
        "Contact",
        where=params.get("where"),
        order=params.get("order"),
        modified_since=modified_since,
        updated=lambda c: c.updated,
        ident=lambda c: c.contact_id,
        extra=extra,
        shuffle=org.modes.shuffle_ties,
        cache=org.order_cache,
        source=org.contacts,
        selective=bool(ids or search),
    )
    return paginate(chosen, params.get("page"), params.get("pagesize"))


def list_payments(
    org: Organisation, params: Mapping[str, str], modified_since: datetime | None
) -> Page:
    chosen = select(
        org.payments.values(),
        payment_fields(org),
        "Payment",
        where=params.get("where"),
        order=params.get("order"),
        modified_since=modified_since,
        updated=lambda p: p.updated,
        ident=lambda p: p.payment_id,
        shuffle=org.modes.shuffle_ties,
        cache=org.order_cache,
        source=org.payments,
    )
    return paginate(chosen, params.get("page"), params.get("pagesize"))


def list_credit_notes(
    org: Organisation, params: Mapping[str, str], modified_since: datetime | None
) -> Page:
    chosen = select(
        org.credit_notes.values(),
        credit_note_fields(),
        "CreditNote",
        where=params.get("where"),
        order=params.get("order"),
        modified_since=modified_since,
        updated=lambda n: n.updated,
        ident=lambda n: n.credit_note_id,
        shuffle=org.modes.shuffle_ties,
        cache=org.order_cache,
        source=org.credit_notes,
    )
    return paginate(chosen, params.get("page"), params.get("pagesize"))
