"""``syncd check``: connect to each org and report, on one screen, everything that would
fail at execution. Exit status 1 when anything would fail, 0 otherwise."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from connectors.base import FindingSeverity
from syncd.check import CheckReport, run_checks

from .context import state_of

_STYLE = {
    FindingSeverity.OK: ("ok", "green"),
    FindingSeverity.WARNING: ("warning", "yellow"),
    FindingSeverity.ERROR: ("FAILS", "bold red"),
}


def _table(report: CheckReport) -> Table:
    table = Table("org", "check", "result", "detail", title="syncd pre-flight check")
    for f in report.findings:
        label, style = _STYLE[f.severity]
        # Details quote config keys such as [orgs.options]: plain text, never markup.
        table.add_row(
            Text(f.org or "(all)"), Text(f.check), Text(label, style=style), Text(f.detail)
        )
    return table


def check(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Pre-flight: late-fee settings, customers without email, SMTP login, reference
    rates and the business's name and address, before anything runs. Writes nothing to
    the provider and sends no email."""
    state = state_of(ctx)
    config = state.config()
    names = [o.name for o in config.settings.orgs]
    if org is not None and org not in names:
        typer.echo(f"syncd: no org named {org!r} in {config.path}", err=True)
        raise typer.Exit(2)
    with state.store() as store:
        report = run_checks(config, store, state.clock, [org] if org else names)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console = Console(highlight=False, soft_wrap=False)
        console.print(_table(report))
        errors = len(report.errors)
        console.print(
            "[green]nothing would fail[/]"
            if report.ok
            else f"[bold red]{errors} {'thing' if errors == 1 else 'things'} would fail[/]"
        )
    if not report.ok:
        raise typer.Exit(1)
