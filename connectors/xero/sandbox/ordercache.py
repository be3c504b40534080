"""The default list order (``UpdatedDateUTC``, then id), kept between requests.

Paging through 100,000 invoices used to sort every record twice on every page, which cost
more CPU than the client spends parsing the page.  The order only depends on each record's
id (fixed) and ``UpdatedDateUTC``, so it is reused while neither the set of records nor any
``UpdatedDateUTC`` has changed.  Records are mutated in place from many places (payments,
edits, the control API), so instead of trusting every writer to invalidate it, the cache
checks itself: the records are the same objects (one number to compare when they come from a
:class:`.records.Records` table that counts changes to its membership, else one pass by
identity), and their timestamps too unless no record's ``updated`` has been assigned since
(``models.Stamped`` counts those writes): reading 100,000 stamps scattered in memory cost
more than rendering the page.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .models import Stamped, stamp_writes
from .records import Records

_UPDATED = operator.attrgetter("updated")


#: Filters kept per valid order (each distinct ``where`` text is one).
MAX_FILTERS = 16


class _Entry:
    __slots__ = (
        "changes",
        "filters",
        "order",
        "order_stamps",
        "records",
        "source",
        "stamps",
        "writes",
    )

    def __init__(
        self, records: list[Any], stamps: list[datetime], order: list[Any], writes: int
    ) -> None:
        self.records = records
        self.writes = writes
        self.stamps = stamps
        self.order = order
        self.order_stamps: list[datetime] = list(map(_UPDATED, order))
        self.filters: dict[str, tuple[list[Any], list[datetime]]] = {}
        self.source: Records[Any] | None = None
        self.changes = -1


def _counted(records: list[Any]) -> bool:
    """Whether writes to these records' stamps are counted (:class:`.models.Stamped`); the
    cache serves one record type per kind, so the first record stands for all."""
    return not records or isinstance(records[0], Stamped)


class OrderCache:
    """Per record type: the records sorted by (updated, id), reused while still valid."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def ordered(
        self,
        kind: str,
        records: Iterable[Any],
        updated: Callable[[Any], datetime],
        ident: Callable[[Any], str],
        modified_since: datetime | None = None,
        source: Records[Any] | None = None,
    ) -> list[Any]:
        """``records`` sorted by id then (stably) by ``updated``: what ``select`` did per call.

        ``updated`` must read the records' ``.updated`` attribute (it is what the cache checks).
        With ``modified_since``, only the records updated strictly after it (a fresh list).
        ``source``, the table ``records`` are the values of, spares listing and comparing them
        while its membership has not changed (:class:`.records.Records`).
        """
        entry = self.checked(kind, records, updated, ident, source)
        if modified_since is None:
            return list(entry.order)
        # Ascending UpdatedDateUTC: "modified after" is a suffix, found by bisection.
        return entry.order[bisect.bisect_right(entry.order_stamps, modified_since) :]

    def checked(
        self,
        kind: str,
        records: Iterable[Any],
        updated: Callable[[Any], datetime],
        ident: Callable[[Any], str],
        source: Records[Any] | None = None,
    ) -> _Entry:
        """``kind``'s entry, sorted again if it is no longer valid (what :meth:`matching`
        needs checked first: without copying the 100,000-row order, as :meth:`ordered` does)."""
        writes = stamp_writes()  # before reading any stamp: a later write moves it on
        changes = source.changes if source is not None else -1
        entry = self._entries.get(kind)
        if entry is None or not self._still_valid(entry, records, writes, source, changes):
            current = list(records)
            order = sorted(current, key=ident)
            order.sort(key=updated)
            stamps = list(map(_UPDATED, current))
            entry = self._entries[kind] = _Entry(current, stamps, order, writes)
            entry.source, entry.changes = source, changes
        return entry

    @staticmethod
    def _still_valid(
        entry: _Entry,
        records: Iterable[Any],
        writes: int,
        source: Records[Any] | None,
        changes: int,
    ) -> bool:
        """Same objects (not merely equal ones: the cached order hands them out), and the very
        same stamp objects (a write assigns a new one; an equal new one merely re-sorts)."""
        if source is not None and entry.source is source and entry.changes == changes:
            listed = entry.records  # no entry added, replaced or dropped: the same list
        else:
            listed = list(records)
            same = len(entry.records) == len(listed) and all(
                map(operator.is_, entry.records, listed)
            )
            if not same:
                return False
            entry.source, entry.changes = source, changes
        if entry.writes != writes or not _counted(listed):
            # Every record type keeps UpdatedDateUTC in ``.updated``; attrgetter runs in C.
            if not all(map(operator.is_, entry.stamps, map(_UPDATED, listed))):
                return False
            entry.writes = writes
        return True

    def matching(
        self,
        kind: str,
        key: str,
        predicate: Callable[[Any], bool],
        modified_since: datetime | None = None,
    ) -> list[Any]:
        """The rows of ``kind``'s order (checked by :meth:`checked` just before) that pass
        ``predicate``, in that order, updated strictly after ``modified_since`` if given.

        Only for a predicate on fields that never change once a record exists (its type, its
        id): then it gives the same answer while the cached order stays valid, and a reader
        paging 100,000 rows by ``Type=="ACCREC"`` no longer re-tests them all on every page.
        """
        entry = self._entries[kind]
        hit = entry.filters.get(key)
        if hit is None:
            if len(entry.filters) >= MAX_FILTERS:
                entry.filters.clear()
            rows = list(filter(predicate, entry.order))
            hit = entry.filters[key] = (rows, list(map(_UPDATED, rows)))
        rows, stamps = hit
        if modified_since is None:
            return list(rows)
        return rows[bisect.bisect_right(stamps, modified_since) :]
