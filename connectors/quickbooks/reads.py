"""Targeted reads: batched fresh reads of named records, and the customer-type name list.

``fetch_records`` serves webhook-triggered syncs and the executor's fresh re-reads. QBO has no
"read many by id" call, so it asks ``SELECT * FROM X WHERE Id IN (...)`` in chunks; an id the
query does not return no longer exists (deleted records vanish from queries; voided invoices
stay, with zero amounts) and comes back as a :class:`Deletion`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from connectors.base import Deletion, EntityKind, Page, SkippedRecord

from .wire import Received

#: Ids per IN list: well under QBO's statement-length limits, one query per chunk.
CHUNK = 100
_ID = re.compile(r"^[0-9A-Za-z-]{1,40}$")
_STREAMS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.CUSTOMERS: ("Customer",),
    EntityKind.INVOICES: ("Invoice",),
    EntityKind.PAYMENTS: ("Payment", "CreditMemo"),
}

Query = Callable[[str], Mapping[str, Any]]
#: (statement, entity) -> that entity's rows, through the fast read path.
RowQuery = Callable[[str, str], list[Received]]
PageBuilder = Callable[[list[Received], str | None], Page]


def _statement(entity: str, ids: Sequence[str]) -> str:
    quoted = ", ".join(f"'{i}'" for i in ids)
    where = f"Id IN ({quoted})"
    if entity == "Customer":
        where += " AND Active IN (true, false)"
    return f"SELECT * FROM {entity} WHERE {where} MAXRESULTS {len(ids)}"  # noqa: S608 - ids checked


def fetch_records(
    query: RowQuery,
    build_page: PageBuilder,
    entity: EntityKind,
    provider_ids: Sequence[str],
    now: datetime,
) -> Page:
    wanted = list(dict.fromkeys(str(i) for i in provider_ids))
    bad = [i for i in wanted if not _ID.match(i)]
    remaining = [i for i in wanted if _ID.match(i)]
    rows: list[Received] = []
    for qbo_entity in _STREAMS[entity]:
        found: set[str] = set()
        for start in range(0, len(remaining), CHUNK):
            chunk = remaining[start : start + CHUNK]
            for row in query(_statement(qbo_entity, chunk), qbo_entity):
                found.add(str(row.id))
                rows.append(row)
        remaining = [i for i in remaining if i not in found]
    page = build_page(rows, None)
    # A payment id found in neither stream may have been a payment or a credit memo (they
    # share QBO's transaction id space): the deletion names no kind.
    gone = tuple(Deletion(entity, i, now) for i in remaining)
    skipped = tuple(
        SkippedRecord(entity, None, f"{i!r} is not a QuickBooks id; nothing was read") for i in bad
    )
    return Page(
        customers=page.customers,
        invoices=page.invoices,
        payments=page.payments,
        deletions=page.deletions + gone,
        skipped=page.skipped + skipped,
        cursor=None,
    )


class CustomerTypes:
    """CustomerType id -> name, read once and again only when an unknown id shows up."""

    def __init__(self, query: Query) -> None:
        self._query = query
        self._names: dict[str, str] | None = None
        self._misses: set[str] = set()

    def _load(self) -> dict[str, str]:
        result = self._query(
            "SELECT * FROM CustomerType WHERE Active IN (true, false) MAXRESULTS 1000"
        )
        return {
            str(row["Id"]): str(row.get("Name") or "")
            for row in result.get("CustomerType") or []
            if row.get("Id") is not None
        }

    def names_for(self, type_id: str | None) -> Mapping[str, str]:
        if type_id is None:
            return self._names or {}
        if self._names is None or (type_id not in self._names and type_id not in self._misses):
            self._names = self._load()
            if type_id not in self._names:
                self._misses.add(type_id)
        return self._names


def find_tagged_invoice(
    query: Query, original: Mapping[str, Any], key: str
) -> Mapping[str, Any] | None:
    """The customer's invoice tagged ``[syncd:KEY]`` created since ``original`` was, if any.

    PrivateNote is not filterable in QBO, so the customer's newer invoices are read and the tag
    looked for; the set is small (one customer, since the original invoice).
    """
    customer = (original.get("CustomerRef") or {}).get("value")
    created = (original.get("MetaData") or {}).get("CreateTime")
    if not customer or not created or not _ID.match(str(customer)):
        return None
    tag = f"[syncd:{key}]"
    position = 1
    while True:
        result = query(
            f"SELECT * FROM Invoice WHERE CustomerRef = '{customer}' "  # noqa: S608 - checked id
            f"AND MetaData.CreateTime >= '{created}' ORDERBY Id "
            f"STARTPOSITION {position} MAXRESULTS 1000"
        )
        rows = result.get("Invoice") or []
        for row in rows:
            if tag in str(row.get("PrivateNote") or ""):
                return cast(Mapping[str, Any], row)
        if len(rows) < 1000:
            return None
        position += len(rows)
