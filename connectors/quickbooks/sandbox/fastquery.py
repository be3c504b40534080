"""Answering queries from the change-order index instead of scanning every row.

The answer is always the one ``query.execute`` gives on all rows - the index only narrows
which rows are looked at:

* ``Id = x`` / ``Id IN (...)``: the named rows, then ``execute`` on those few;
* conditions on ``MetaData.LastUpdatedTime`` (``= < <= > >=``): a bisect on the index;
* ``ORDERBY MetaData.LastUpdatedTime`` (ascending, ties by Id) and the transactions' default
  order (newest change first, ties by Id descending) are the index order itself (or its
  reverse), so the page is read off the index and stops as soon as it is full; any other
  order sorts only the rows in the range, through ``execute``.

The shuffled-ties unkind mode and rows the index cannot order use the full scan.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from typing import Any

from .query import Result, execute, matches, project
from .queryschema import DEFAULT_ORDER, NAME_LISTS, Condition, Op, Query
from .readindex import RowIndex

JSON = dict[str, Any]
Bound = tuple[datetime, bool]

_STAMP = "MetaData.LastUpdatedTime"
_RANGE_OPS = (Op.EQ, Op.LT, Op.LE, Op.GT, Op.GE)


def _tighter(old: Bound | None, new: Bound, *, lower: bool) -> Bound:
    if old is None or old[0] != new[0]:
        pick = max if lower else min
        return new if old is None else pick(old, new, key=lambda bound: bound[0])
    return (new[0], old[1] and new[1])  # same moment: exclusive wins


def _split(query: Query) -> tuple[Bound | None, Bound | None, list[Condition], Condition | None]:
    """(lower bound, upper bound, conditions left to check, Id condition to look rows up by)."""
    lower: Bound | None = None
    upper: Bound | None = None
    rest: list[Condition] = []
    by_id: Condition | None = None
    for cond in query.conditions:
        name = cond.field.name
        if name == _STAMP and cond.op in _RANGE_OPS:
            moment = cond.values[0]
            if cond.op in (Op.EQ, Op.GT, Op.GE):
                lower = _tighter(lower, (moment, cond.op is not Op.GT), lower=True)
            if cond.op in (Op.EQ, Op.LT, Op.LE):
                upper = _tighter(upper, (moment, cond.op is not Op.LT), lower=False)
            continue
        if name == "Id" and cond.op in (Op.EQ, Op.IN) and by_id is None:
            by_id = cond
        rest.append(cond)
    return lower, upper, rest, by_id


def _index_order(query: Query) -> bool | None:
    """False: ascending index order; True: descending; None: not the index order."""
    if query.order:
        if len(query.order) == 1 and query.order[0][0].name == _STAMP and not query.order[0][1]:
            return False
        return None
    default = DEFAULT_ORDER[query.entity]
    if default == ((_STAMP, True), ("Id", True)):
        return True
    return None


def answer(query: Query, rows: dict[str, JSON], index: RowIndex) -> Result | None:
    """What ``execute(query, rows.values(), tz)`` returns, or ``None`` to do just that."""
    if not index.sync(rows):
        return None
    lower, upper, rest, by_id = _split(query)
    if by_id is not None:
        wanted = dict.fromkeys(str(value) for value in by_id.values)
        found = [rows[row_id] for row_id in wanted if row_id in rows]
        return execute(query, found, index.tz)
    positions = index.span(lower, upper)
    descending = _index_order(query)
    if descending is None:
        return execute(query, [rows[i] for i in index.ids(positions)], index.tz)
    active_only = query.entity in NAME_LISTS and not query.explicit_active
    if query.count and not rest and not active_only:
        return Result([], len(positions))
    begin = query.start_position - 1
    if not query.count and not rest and not active_only:
        # Every row in the range matches: the page is a slice of positions (no skipping).
        ordered = positions[::-1] if descending else positions
        window = ordered[begin : begin + query.max_results]
        page = [rows[row_id] for row_id in index.ids(window)]
        if query.projection is not None:
            page = [project(row, query.projection) for row in page]
        return Result(page, 0)
    selected = (rows[row_id] for row_id in index.ids(positions, descending=descending))
    if rest or active_only:
        tz = index.tz
        selected = (
            row
            for row in selected
            if all(matches(row, cond, tz) for cond in rest)
            and (not active_only or row.get("Active", True))
        )
    if query.count:
        return Result([], sum(1 for _ in selected))
    page = list(islice(selected, begin, begin + query.max_results))
    if query.projection is not None:
        page = [project(row, query.projection) for row in page]
    return Result(page, 0)
