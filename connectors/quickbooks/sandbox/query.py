"""Evaluating a parsed query over stored rows: filter, order, page, project.

The statement is read by :mod:`.queryparse` into a :class:`Query` over the properties
:mod:`.queryschema` lists; :func:`execute` is the reference answer (a full scan) that the
index-backed :mod:`.fastquery` must always equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from .money import money
from .queryparse import parse
from .queryschema import (
    DEFAULT_ORDER,
    FIELDS,
    NAME_LISTS,
    Condition,
    Field,
    Kind,
    Op,
    Query,
)
from .wire import parse_date, parse_datetime

__all__ = ["Query", "Result", "execute", "extract", "matches", "parse", "project"]

JSON = dict[str, Any]


def extract(row: JSON, fld: Field, tz: tzinfo) -> Any:
    value: Any = row
    for part in fld.path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if fld.name == "PrimaryEmailAddr" and isinstance(value, dict):
        value = value.get("Address")
    if value is None:
        return None
    kind = fld.kind
    if kind in (Kind.ID, Kind.REF):
        return int(value)
    if kind is Kind.MONEY:
        return value if isinstance(value, Decimal) else money(value)
    if kind is Kind.DATE:
        return parse_date(value)
    if kind is Kind.DATETIME:
        return parse_datetime(value, tz)
    if kind is Kind.BOOL:
        return bool(value)
    return str(value).lower()


def _compare(op: Op, left: Any, right: Any) -> bool:
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    if op is Op.LT:
        return bool(left < right)
    if op is Op.GT:
        return bool(left > right)
    if op is Op.LE:
        return bool(left <= right)
    if op is Op.GE:
        return bool(left >= right)
    raise AssertionError(op)


def matches(row: JSON, cond: Condition, tz: tzinfo) -> bool:
    value = extract(row, cond.field, tz)
    if value is None:
        return cond.op is Op.NE
    if cond.op is Op.IN:
        return value in cond.values
    if cond.op is Op.LIKE:
        pattern: re.Pattern[str] = cond.values[0]
        return pattern.match(value) is not None
    return _compare(cond.op, value, cond.values[0])


class _Desc:
    """Inverts ordering for one sort key so that mixed ASC/DESC keys sort in one pass."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


def _sort_key(
    order: tuple[tuple[Field, bool], ...], tz: tzinfo
) -> Callable[[JSON], tuple[Any, ...]]:
    def key(row: JSON) -> tuple[Any, ...]:
        parts: list[Any] = []
        for fld, descending in order:
            value = extract(row, fld, tz)
            # None sorts first ascending (and last descending), with a type-stable pair.
            item = (value is not None, value if value is not None else 0)
            parts.append(_Desc(item) if descending else item)
        return tuple(parts)

    return key


@dataclass(frozen=True)
class Result:
    rows: list[JSON]
    total: int


def execute(
    query: Query,
    rows: Iterable[JSON],
    tz: tzinfo,
    shuffle: Callable[[list[JSON]], None] | None = None,
) -> Result:
    """Filter, order and page ``rows`` (already excluding deleted entities).

    With ``shuffle`` (the unkind mode) rows are shuffled before a stable sort on the requested
    keys only, so rows tying on every key come back in a different order on every call.
    """
    conditions = list(query.conditions)
    selected = [row for row in rows if all(matches(row, c, tz) for c in conditions)]
    if query.entity in NAME_LISTS and not query.explicit_active:
        # Name-list queries return active records only unless Active is filtered explicitly.
        selected = [row for row in selected if row.get("Active", True)]
    total = len(selected)
    if query.count:
        return Result([], total)
    order = query.order or tuple(
        (FIELDS[query.entity][name.lower()], desc) for name, desc in DEFAULT_ORDER[query.entity]
    )
    if shuffle is not None:
        if not query.order:
            order = order[:1]  # the default order's Id tie-break is the sandbox's, not QBO's
        shuffle(selected)
    elif query.order:
        # Deterministic tie-break on Id, as a database primary key would give.
        order = (*order, (FIELDS[query.entity]["id"], False))
    selected.sort(key=_sort_key(order, tz))
    begin = query.start_position - 1
    page = selected[begin : begin + query.max_results]
    if query.projection is not None:
        page = [project(row, query.projection) for row in page]
    return Result(page, total)


def project(row: JSON, projection: tuple[Field, ...]) -> JSON:
    keep = {fld.path[0] for fld in projection} | {"Id"}
    out: JSON = {key: value for key, value in row.items() if key in keep}
    out["domain"] = row.get("domain", "QBO")
    out["sparse"] = True
    return out
