"""Full pulls that lose nothing whatever order QBO gives rows that tie on LastUpdatedTime.

Intuit does not document how rows with the same ``MetaData.LastUpdatedTime`` are ordered, and
bulk imports or recurring-invoice runs stamp hundreds of rows with the same second. Paging with
``>=`` and a count of rows to skip at the last timestamp (the previous design) skips some rows
and repeats others when ties come back in a different order on the next call.

Each stream is therefore pulled in two alternating phases, each with a total order:

* **after T**: ``LastUpdatedTime > T ORDERBY LastUpdatedTime``. Every row of a full page older
  than the page's last timestamp L is complete (the sort is correct across timestamps, only
  ties are unordered); the rows at L may be partial, so the next page is "after L'" (the
  page's latest timestamp before L), which reads the whole tie block at L again. Only when a
  full page is a single tie block (no L') does the pull switch to:
* **at L**: ``LastUpdatedTime = L AND Id > X ORDERBY Id``, a keyset on the unique Id, until a
  short page; then back to "after L".

A row that changes mid-pull leaves its tie block for a later timestamp and is read there (or
by the change feed that starts at the backfill's signpost). Rows of a tie block that were
already returned by the "after" page are read again: upserts make that harmless.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.kit import decode_cursor

from .wire import Received

Rows = list[Received]
#: (statement, entity) -> that entity's rows.
Query = Callable[[str, str], Rows]


@dataclass(frozen=True)
class KeysetCursor:
    entity: str
    #: The last complete timestamp (phase "after"), or the tie block's timestamp (phase "at").
    since: str | None = None
    #: Phase "at": paging inside the tie block at ``since`` by Id, after ``after_id``.
    at: bool = False
    after_id: str | None = None

    def dump(self) -> str:
        return json.dumps(
            {"v": 2, "entity": self.entity, "since": self.since, "at": self.at, "id": self.after_id}
        )

    @classmethod
    def load(cls, text: str | None, streams: tuple[str, ...]) -> KeysetCursor:
        """Resume where a pull stopped; a cursor that cannot be read restarts the stream
        (logged by the kit)."""

        def parse(data: dict[str, Any]) -> KeysetCursor:
            entity = str(data["entity"])
            if entity not in streams:
                raise ValueError(f"no stream {entity!r}")
            since = data.get("since")
            if since is not None and not isinstance(since, str):
                raise TypeError(f"since is {since!r}")
            if "skip" in data:
                # The previous >=/skip cursor: re-read its whole tie block by Id.
                return cls(entity, since, at=since is not None)
            after = data.get("id")
            return cls(entity, since, bool(data.get("at")), None if after is None else str(after))

        return decode_cursor(text, parse, provider="QuickBooks") or cls(streams[0])


def statement(state: KeysetCursor, size: int) -> str:
    where = []
    if state.entity == "Customer":
        where.append("Active IN (true, false)")
    if state.at:
        where.append(f"MetaData.LastUpdatedTime = '{state.since}'")
        if state.after_id is not None:
            where.append(f"Id > '{state.after_id}'")
        order = "Id"
    else:
        if state.since:
            where.append(f"MetaData.LastUpdatedTime > '{state.since}'")
        order = "MetaData.LastUpdatedTime"
    text = f"SELECT * FROM {state.entity}"  # noqa: S608 - fixed entity names, server values
    if where:
        text += " WHERE " + " AND ".join(where)
    return text + f" ORDERBY {order} STARTPOSITION 1 MAXRESULTS {size}"


def advance(state: KeysetCursor, rows: Rows, size: int) -> KeysetCursor | None:
    """The cursor after ``rows``; ``None`` when the stream is exhausted."""
    if state.at:
        if len(rows) < size:
            return KeysetCursor(state.entity, state.since)
        return KeysetCursor(state.entity, state.since, True, str(rows[-1].id))
    if len(rows) < size:
        return None
    # Rows come sorted by timestamp; a row without one (skipped by the mapper) sorts first.
    stamps = [stamp for row in rows if (stamp := row.stamp)]  # one property call a row
    if not stamps:
        raise ValueError(f"a full page of {state.entity} rows without MetaData.LastUpdatedTime")
    last = stamps[-1]
    earlier = next((stamp for stamp in reversed(stamps) if stamp != last), None)
    if earlier is not None:
        # Every row up to the page's second-latest timestamp is complete: carry on after it.
        # The (possibly partial) tie block at the last timestamp is read again, whole, by the
        # next page - one call per page instead of an "at" query after every full page.
        return KeysetCursor(state.entity, earlier)
    return KeysetCursor(state.entity, last, True)


def pull(
    query: Query, streams: tuple[str, ...], resume: str | None, size: int
) -> Iterator[tuple[str, Rows, str]]:
    """(entity, rows, cursor to persist with them) for every page of every stream."""
    state = KeysetCursor.load(resume, streams)
    for index in range(streams.index(state.entity), len(streams)):
        entity = streams[index]
        current: KeysetCursor | None = state if entity == state.entity else KeysetCursor(entity)
        while current is not None:
            rows = query(statement(current, size), entity)
            following = advance(current, rows, size)
            if following is not None:
                persist = following
            elif index + 1 < len(streams):
                persist = KeysetCursor(streams[index + 1])
            else:
                persist = current
            yield entity, rows, persist.dump()
            current = following
