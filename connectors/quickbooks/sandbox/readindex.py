"""Stored rows kept sorted by change time, with each row's wire bytes cached.

A backfill of 100,000 invoices asks for 100 pages of ``... WHERE MetaData.LastUpdatedTime >
'…' ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000``. Answering each by parsing, filtering
and sorting every stored row, then encoding the page afresh, cost the sandbox more CPU than
the client spent reading the answer. Here each entity's rows are kept in (LastUpdatedTime, Id)
order - the order QBO's keyset and default queries use - so a page is a bisect and a slice,
and a row's JSON is encoded once and reused until the row changes.

The index follows the rows through :class:`TrackedRows` (rows stored, replaced or removed)
and :meth:`RowIndex.mark` (rows changed in place: the company marks every row it bumps).
The index is built on the first read, so seeding pays nothing for it. A row the index cannot
order (no parseable LastUpdatedTime, an Id that is not a plain number: only tests corrupt
rows like that) turns the index off for its entity until the row is fixed, and queries fall
back to the full scan. A cached encoding is also checked against the row's identity,
SyncToken, LastUpdatedTime and size before use, so a test poking a row in place is caught in
most cases; anything else that edits stored rows should call ``Company.touch``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timezone, tzinfo
from typing import Any

from .render import rows_bytes
from .wire import parse_datetime

JSON = dict[str, Any]
Key = tuple[datetime, int, str]
_dict_set, _dict_del, _dict_pop = dict.__setitem__, dict.__delitem__, dict.pop


class TrackedRows(dict[str, JSON]):
    """One entity's ``{id: payload}``; reports every id stored, replaced or removed.

    The dict's own methods are called directly rather than through ``super()``, which builds
    a proxy object per call: a third of the cost of storing a row, a few hundred thousand
    times while seeding.
    """

    def __init__(self, changed: Callable[[str], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, key: str, value: JSON) -> None:
        _dict_set(self, key, value)
        self._changed(key)

    def __delitem__(self, key: str) -> None:
        _dict_del(self, key)
        self._changed(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._changed(key)
        return _dict_pop(self, key, *default)


def _key(row_id: str, row: JSON, tz: tzinfo) -> Key | None:
    """The row's place in change order, or ``None`` when it has no orderable place."""
    meta = row.get("MetaData")
    stamp = meta.get("LastUpdatedTime") if isinstance(meta, dict) else None
    if not isinstance(stamp, str) or not row_id.isdigit() or str(int(row_id)) != row_id:
        return None
    if row.get("Id") != row_id:
        return None
    try:
        # Stored stamps carry their offset: parsed directly, without filling (and evicting
        # from) parse_datetime's cache with one entry per row.
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        moment = None
    try:
        if moment is None or moment.tzinfo is None:
            moment = parse_datetime(stamp, tz)
    except ValueError:
        return None
    if type(moment.tzinfo) is timezone:
        # Aware datetimes with distinct tzinfo objects compare through utcoffset() calls, which
        # made sorting 100,000 keys the bulk of the first query; a fixed offset compares by
        # its instant either way, so the UTC form orders exactly as the parsed one.
        moment = moment.astimezone(UTC)
    return moment, int(row_id), row_id


class RowIndex:
    """The rows of one entity in ascending (LastUpdatedTime, Id) order."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._keys: list[Key] = []
        self._stamps: list[datetime] = []
        self._key_of: dict[str, Key] = {}
        self._pending: set[str] = set()
        self._irregular: set[str] = set()
        self._built = False
        # id -> (row object, SyncToken, LastUpdatedTime, number of keys, encoded row)
        self._wire: dict[str, tuple[JSON, Any, Any, int, bytes]] = {}

    def mark(self, row_id: str) -> None:
        """The row was stored, replaced, removed or changed in place."""
        if self._built:  # before the first read there is nothing to forget
            self._pending.add(row_id)
            self._wire.pop(row_id, None)

    def sync(self, rows: dict[str, JSON]) -> bool:
        """Catch up with ``rows``; whether every row is ordered (the index can answer)."""
        if not self._built:
            self._build(rows)
        elif self._pending:
            pending, self._pending = self._pending, set()
            for row_id in pending:
                self._update(row_id, rows.get(row_id))
        return not self._irregular

    def _build(self, rows: dict[str, JSON]) -> None:
        keyed: list[Key] = []
        for row_id, row in rows.items():
            key = _key(row_id, row, self.tz)
            if key is None:
                self._irregular.add(row_id)
            else:
                keyed.append(key)
                self._key_of[row_id] = key
        keyed.sort()
        self._keys = keyed
        self._stamps = [key[0] for key in keyed]
        self._pending.clear()
        self._built = True

    def _update(self, row_id: str, row: JSON | None) -> None:
        old = self._key_of.pop(row_id, None)
        if old is not None:
            at = bisect_left(self._keys, old)
            del self._keys[at]
            del self._stamps[at]
        self._irregular.discard(row_id)
        if row is None:
            return
        key = _key(row_id, row, self.tz)
        if key is None:
            self._irregular.add(row_id)
            return
        at = bisect_left(self._keys, key)
        self._keys.insert(at, key)
        self._stamps.insert(at, key[0])
        self._key_of[row_id] = key

    def span(
        self, lower: tuple[datetime, bool] | None, upper: tuple[datetime, bool] | None
    ) -> range:
        """Positions of rows changed after ``lower`` and before ``upper`` ((moment, inclusive))."""
        start, stop = 0, len(self._keys)
        if lower is not None:
            moment, inclusive = lower
            start = (bisect_left if inclusive else bisect_right)(self._stamps, moment)
        if upper is not None:
            moment, inclusive = upper
            stop = (bisect_right if inclusive else bisect_left)(self._stamps, moment)
        return range(start, max(start, stop))

    def ids(self, positions: range, *, descending: bool = False) -> Iterator[str]:
        keys = self._keys
        for at in reversed(positions) if descending else positions:
            yield keys[at][2]

    def entries(self, positions: range) -> list[Key]:
        """(changed at, in UTC; Id as a number; Id) of the rows at ``positions``."""
        return self._keys[positions.start : positions.stop]

    def encoded(self, row: JSON) -> bytes:
        """The row as it goes on the wire (``dumps``), encoded once per version of the row."""
        return self.encoded_many([row])[0]

    def encoded_many(self, rows: list[JSON]) -> list[bytes]:
        """Each row as it goes on the wire: cached encodings where the row has not changed,
        the others encoded together (a page's first serving) and cached."""
        if not self._built:  # rows are not followed yet: nothing may be cached
            return rows_bytes(rows)
        out: list[bytes | None] = []
        fresh: list[tuple[int, str, JSON, Any]] = []
        for row in rows:
            row_id = str(row.get("Id"))
            meta = row.get("MetaData")
            stamp = meta.get("LastUpdatedTime") if isinstance(meta, dict) else None
            cached = self._wire.get(row_id)
            if (
                cached is not None
                and cached[0] is row
                and cached[1] == row.get("SyncToken")
                and cached[2] == stamp
                and cached[3] == len(row)
            ):
                out.append(cached[4])
            else:
                fresh.append((len(out), row_id, row, stamp))
                out.append(None)
        if fresh:
            encoded = rows_bytes([row for _, _, row, _ in fresh])
            for (at, row_id, row, stamp), data in zip(fresh, encoded, strict=True):
                self._wire[row_id] = (row, row.get("SyncToken"), stamp, len(row), data)
                out[at] = data
        return [data for data in out if data is not None]
