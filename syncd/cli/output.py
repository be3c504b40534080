"""How every command hands back its result: JSON on stdout for scripts, or a table for people.

Conventions (new commands follow them too):

- A command that produces a result takes ``--json`` (use :data:`JSON_OPTION`) and calls
  :func:`emit` with a JSON-able result and a function that draws it for a person. With
  ``--json`` stdout carries exactly one JSON document; logs and progress go to stderr.
- Human output goes to stdout through :func:`console`, whose width follows the terminal (or
  ``$COLUMNS``; 80 when stdout is not a terminal). Tables built with :func:`table` keep
  identifying columns (invoice number, action, amount) whole with :func:`fit_table`; free
  text (reasons, errors) is cut to one line and shown whole by a detail view.
- A user's mistake ends through :func:`fail`: one ``syncd: ...`` line on stderr, exit 2,
  never a traceback. ``--org`` goes through :func:`known_orgs`, dates through
  :func:`parse_date`, options with a fixed set of values are ``StrEnum`` s (help shows them).
- An option naming an invoice accepts its number or its provider id: resolve it with
  :func:`syncd.store.invoice_refs.resolve_invoice` and ``fail(str(exc))`` on
  :class:`~syncd.store.invoice_refs.InvoiceRefError` (unknown, or ambiguous with both named).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NoReturn

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON on stdout.")
#: Optional: with one org configured, that org (see ``ladder_common.org_name``).
ORG_OPTION = typer.Option(None, "--org", help="The org (needed if several are configured).")

#: Exit status of a usage error (bad option value, unknown org or invoice).
EXIT_USAGE = 2


def console(*, stderr: bool = False) -> Console:
    """Plain output: no guessed highlighting, and text from data is never markup."""
    return Console(stderr=stderr, highlight=False)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def dumps(result: object) -> str:
    """Amounts as decimal strings, dates and times in ISO form."""
    return json.dumps(result, indent=2, default=_default)


def emit(result: object, as_json: bool, render: Callable[[Console], None]) -> None:
    """Print ``result`` as JSON, or let ``render`` draw it for a person on stdout."""
    if as_json:
        typer.echo(dumps(result))
    else:
        render(console())


@dataclass(frozen=True)
class Col:
    """A table column: ``keep`` is never cut (numbers, actions, amounts), ``wrap`` wraps
    within ``max_width`` (names), ``trim`` is one line cut to what is left (reasons)."""

    header: str
    mode: Literal["keep", "wrap", "trim"] = "keep"
    max_width: int = 24


def _width(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def fit_table(
    width: int, columns: list[Col], rows: list[list[str]], *, title: str | None = None
) -> Table:
    """A table that fits ``width`` without cutting any ``keep`` column.

    rich shrinks every column of a table that is too wide, identifiers included; here the
    free-text columns give way first: names wrap, reasons are cut to one line (the detail
    views, ``syncd actions show`` and ``syncd policy explain --invoice``, have them whole).
    A ``trim`` column that cannot get 12 characters is left out.
    """
    natural = [
        max([_width(c.header)] + [_width(r[i]) for r in rows]) for i, c in enumerate(columns)
    ]
    sizes = [
        min(n, c.max_width) if c.mode == "wrap" else n
        for n, c in zip(natural, columns, strict=True)
    ]
    trim = [i for i, c in enumerate(columns) if c.mode == "trim"]
    shown = list(range(len(columns)))
    if trim:
        used = sum(s for i, s in enumerate(sizes) if i not in trim) + 3 * len(columns)
        left = (width - used) // len(trim)
        if left < 12:
            shown = [i for i in shown if i not in trim]
        for i in trim:
            sizes[i] = min(sizes[i], max(left, 12))
    out = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for i in shown:
        c = columns[i]
        if c.mode == "keep":
            out.add_column(c.header, no_wrap=True, overflow="ignore", min_width=sizes[i])
        elif c.mode == "wrap":
            out.add_column(
                c.header, overflow="fold", max_width=sizes[i], min_width=min(sizes[i], 8)
            )
        else:
            out.add_column(c.header, no_wrap=True, overflow="ellipsis", max_width=sizes[i])
    for row in rows:
        out.add_row(*(Text(row[i]) for i in shown))
    return out


def say(console_: Console, text: str) -> None:
    """One line of data (names, reasons): never markup, never cut."""
    console_.print(text, markup=False, soft_wrap=True, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """A user's mistake: one line on stderr naming the problem, no traceback."""
    console(stderr=True).print(f"syncd: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_date(value: str | None, option: str) -> date | None:
    """A date option (``--as-of``, ``--until``): a bad one is a usage error naming it."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date like 2026-11-30, got {value!r}", param_hint=option
        ) from None


def known_orgs(names: list[str], org: str | None, config_path: object) -> list[str]:
    """The orgs a command works on; an unknown ``--org`` is a usage error naming the file."""
    if org is not None and org not in names:
        listed = ", ".join(names) or "none configured"
        fail(f"no org named {org!r} in {config_path} (orgs: {listed})")
    return [org] if org else list(names)
