"""A record's dict, parsed from the text the provider sent only when someone reads it.

Both connectors decode list pages straight into Structs and keep each record's text for the
store's ``raw_json``; the ``raw`` mapping a record also carries is read by few (a case file,
an email executor looking for ``BillEmail``, a write built from a fresh read), so parsing it
for every record of a backfill would hold a page's worth of dicts for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any


class LazyJson(Mapping[str, Any]):
    """``json.loads(text)`` (decimals exact) on first read; ``shape`` then trims the dict the
    way the connector's mapper always did (Xero keeps an invoice's brief contact)."""

    __slots__ = ("_data", "_shape", "_text")

    def __init__(
        self, text: str, shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> None:
        self._text = text
        self._shape = shape
        self._data: dict[str, Any] | None = None

    def _parsed(self) -> dict[str, Any]:
        if self._data is None:
            value = json.loads(self._text, parse_float=Decimal)
            data = value if isinstance(value, dict) else {"unreadable": self._text[:500]}
            self._data = self._shape(data) if self._shape is not None else data
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())
