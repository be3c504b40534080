"""``syncd invoices``: what the store holds, as JSON for scripts or a table for people."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from syncd.store.queries import invoices as query_invoices

from .context import state_of
from .output import Col, fit_table

COLUMNS = [
    Col("org", "wrap", 12),
    Col("number"),
    Col("customer", "wrap", 28),
    Col("due"),
    Col("balance"),
    Col("status"),
]


def invoices(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    open_only: bool = typer.Option(False, "--open", help="Only open invoices with a balance."),
) -> None:
    """List stored invoices."""
    state = state_of(ctx)
    if org is not None and org not in {o.name for o in state.config().settings.orgs}:
        typer.echo(f"syncd: no org named {org!r} in {state.config().path}", err=True)
        raise typer.Exit(2)
    with state.store() as store, store.sessions() as session:
        rows = query_invoices(session, org=org, open_only=open_only)
        if as_json:
            out = sys.stdout
            out.write("[")
            for i, row in enumerate(rows):
                out.write(("," if i else "") + "\n  " + json.dumps(row.as_json()))
            out.write("\n]\n" if out else "]\n")
            return
        cells = [
            [
                row.org,
                row.number or row.provider_id,
                row.customer_name or row.customer_id,
                row.due_date.isoformat() if row.due_date else "",
                f"{row.as_json()['balance']} {row.currency}",
                row.status,
            ]
            for row in rows
        ]
        console = Console()
        console.print(fit_table(console.width, COLUMNS, cells))
        typer.echo(f"{len(cells)} invoice(s)")
