"""The default list order (``UpdatedDateUTC``, then id), kept between requests.

Paging through 100,000 invoices used to sort every record twice on every page, which cost
more CPU than the client spends parsing the page.  The order only depends on each record's
id (fixed) and ``UpdatedDateUTC``, so it is reused while neither the set of records nor any
``UpdatedDateUTC`` has changed.  Records are mutated in place from many places (payments,
edits, the control API), so instead of trusting every writer to invalidate it, the cache
checks itself: one pass comparing the records by identity, and their timestamps too unless
no record's ``updated`` has been assigned since (``models.Stamped`` counts those writes):
reading 100,000 stamps scattered in memory cost more than rendering the page.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from .models import Stamped, stamp_writes

_UPDATED = operator.attrgetter("updated")


#: Filters kept per valid order (each distinct ``where`` text is one).
MAX_FILTERS = 16


class _Entry:
    __slots__ = ("filters", "order", "order_stamps", "records", "stamps", "writes")

    def __init__(
        self, records: list[Any], stamps: list[datetime], order: list[Any], writes: int
    ) -> None:
        self.records = records
        self.writes = writes
        self.stamps = stamps
        self.order = order
        self.order_stamps: list[datetime] = list(map(_UPDATED, order))
        self.filters: dict[str, tuple[list[Any], list[datetime]]] = {}


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
        records: Sequence[Any],
        updated: Callable[[Any], datetime],
        ident: Callable[[Any], str],
        modified_since: datetime | None = None,
    ) -> list[Any]:
        """``records`` sorted by id then (stably) by ``updated``: what ``select`` did per call.

        ``updated`` must read the records' ``.updated`` attribute (it is what the cache checks).
        With ``modified_since``, only the records updated strictly after it (a fresh list).
        """
        writes = stamp_writes()  # before reading any stamp: a later write moves it on
        current = list(records)
        entry = self._entries.get(kind)
        # Same objects (not merely equal ones: the cached order hands them out), and the very
        # same stamp objects (a write assigns a new one; an equal new one merely re-sorts).
        # Every record type keeps UpdatedDateUTC in ``.updated``; attrgetter runs in C.
        valid = (
            entry is not None
            and len(entry.records) == len(current)
            and all(map(operator.is_, entry.records, current))
        )
        if valid and entry is not None and (entry.writes != writes or not _counted(current)):
            valid = all(map(operator.is_, entry.stamps, map(_UPDATED, current)))
            if valid:
                entry.writes = writes
        if not valid:
            order = sorted(current, key=ident)
            order.sort(key=updated)
            stamps = list(map(_UPDATED, current))
            entry = self._entries[kind] = _Entry(current, stamps, order, writes)
        assert entry is not None
        if modified_since is None:
            return list(entry.order)
        # Ascending UpdatedDateUTC: "modified after" is a suffix, found by bisection.
        return entry.order[bisect.bisect_right(entry.order_stamps, modified_since) :]

    def matching(
        self,
        kind: str,
        key: str,
        predicate: Callable[[Any], bool],
        modified_since: datetime | None = None,
    ) -> list[Any]:
        """The rows of ``kind``'s order (checked by :meth:`ordered` just before) that pass
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
