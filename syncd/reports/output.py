"""Rows out as a terminal table, JSON or CSV, the same way for every report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

Format = Literal["table", "json", "csv"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return " ".join(f"{v} {k}" for k, v in value.items())
    return str(value)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def render(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    document: Any = None,
) -> str | None:
    """JSON and CSV come back as text for stdout; a table is printed (None returned).

    ``document``: what ``--json`` prints instead of the bare rows, when a report has more
    to say than rows (notes, totals)."""
    if fmt == "json":
        return json.dumps(rows if document is None else document, indent=2)
    if fmt == "csv":
        return to_csv(rows, columns)
    names = headers or {}
    table = Table(*[names.get(c, c) for c in columns], title=title)
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    Console().print(table)
    return None
