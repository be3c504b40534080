"""``syncd report experiment NAME``: compare the two arms of an A/B policy experiment.

Registered here under a ``report`` group of its own until the reports work's ``report``
group is merged; the integrator moves :func:`experiment` into that group."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from syncd.connections import org_id_for
from syncd.experiments.report import Comparison, experiment_names, experiment_report

from .context import state_of


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(result: Comparison) -> Table:
    table = Table(title=f"Experiment {result.name!r}", width=80)
    for col in ("arm", "customers", "invoices", "paid", "collected", "mean d", "median d"):
        table.add_column(col, justify="left" if col == "arm" else "right")
    for arm, s in result.arms.items():
        share = f"{100 * s.paid / s.invoices:.1f}%" if s.invoices else "-"
        table.add_row(
            arm,
            str(result.customers[arm]),
            str(s.invoices),
            str(s.paid),
            share,
            _fmt(s.mean_days),
            _fmt(s.median_days),
        )
    return table


def experiment(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The experiment (its rule's name)."),
    org: str | None = typer.Option(None, "--org", help="Org (default: the first)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare an A/B experiment's arms: days to payment (Welch 95% CI) and share
    collected (Newcombe 95% CI), candidate minus control, with the sample sizes."""
    state = state_of(ctx)
    config = state.config()
    names = [o.name for o in config.settings.orgs]
    if org is not None and org not in names:
        typer.echo(f"syncd: no org named {org!r} in {config.path}", err=True)
        raise typer.Exit(2)
    org_name = org or names[0]
    with state.store() as store:
        org_id = org_id_for(store, config, org_name, state.clock)
        with store.sessions() as session:
            known = experiment_names(session, org_id)
            if name not in known:
                listed = ", ".join(known) or "none recorded yet"
                typer.echo(
                    f"syncd: no experiment {name!r} in org {org_name!r} (known: {listed})",
                    err=True,
                )
                raise typer.Exit(2)
            result = experiment_report(session, org_id, name)
    if as_json:
        typer.echo(json.dumps({"org": org_name, **result.to_dict()}, indent=2))
        return
    console = Console(width=80)
    console.print(_table(result))
    for label, iv, scale, unit in (
        ("Mean days to payment, candidate - control", result.days_difference, 1, " days"),
        ("Share collected, candidate - control", result.collected_difference, 100, " points"),
    ):
        if iv is None:
            console.print(f"{label}: not computable (too few values)")
        else:
            console.print(
                f"{label}: {iv.estimate * scale:+.1f}{unit} "
                f"(95% CI {iv.low * scale:+.1f} to {iv.high * scale:+.1f})"
            )
    console.print(result.verdict)
