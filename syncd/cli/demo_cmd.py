"""``syncd demo``: the whole pipeline on embedded defaults, with nothing to configure.

A seeded QuickBooks sandbox runs on 127.0.0.1 inside this process; syncd writes a config that
points at it, backfills into a fresh SQLite store and shows what the next dunning cycle
would do. Nothing leaves the machine.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from syncd.config import load_config
from syncd.connections import connect, org_id_for
from syncd.dunning.planning import plan_org
from syncd.store import open_store
from syncd.sync import Syncer

from .context import state_of
from .sandbox_cmd import GROUP, org_block

SHOWN = 15


def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("syncd-demo"), "--dir", help="Where to write the demo."),
    invoices: int = typer.Option(300, "--invoices", help="Invoices in the sandbox company."),
    seed: int = typer.Option(1, "--seed", help="Seed of the sandbox company."),
) -> None:
    """Run a local QuickBooks sandbox, back it up into SQLite and plan the next cycle."""
    state = state_of(ctx)
    console = Console(highlight=False)
    sandboxes = {ep.name: ep for ep in entry_points(group=GROUP)}
    if "quickbooks" not in sandboxes:
        typer.echo("syncd: the QuickBooks sandbox is not installed", err=True)
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "syncd.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    box = sandboxes["quickbooks"].load()(seed=seed, invoices=invoices, port=0)
    box.start()
    try:
        block = org_block("quickbooks", "demo", box.org_config()).replace(
            'timezone = "UTC"', 'timezone = "America/Los_Angeles"'
        )
        config_path = directory / "syncd.toml"
        config_path.write_text(
            "# Written by `syncd demo`; points at a sandbox that only lives during the demo.\n"
            f'[store]\nurl = "sqlite:///syncd.db"\n\n{block}',
            encoding="utf-8",
        )
        config = load_config(config_path)
        console.print(f"QuickBooks sandbox on {box.base_url}: {invoices} invoices, seed {seed}")
        store = open_store(config.store_url)
        try:
            connector = connect(store, config, "demo", state.clock)
            org_id = org_id_for(store, config, "demo", state.clock)
            try:
                report = Syncer(
                    store, org_id, "demo", connector, state.clock, company_info=True
                ).backfill()
            finally:
                connector.close()
            s = report.summary()
            console.print(
                f"backfill: {s['inserted']} records in {s['pages']} pages into {db} "
                f"({s['skipped']} skipped)"
            )
            with store.sessions() as session:
                result = plan_org(session, config, "demo", org_id, state.clock.now())
        finally:
            store.close()
    finally:
        box.stop()
    counts: dict[str, int] = {}
    for action in result.actions:
        counts[str(action.kind)] = counts.get(str(action.kind), 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    shown = result.actions[:SHOWN]
    table = Table(title="next cycle (first actions)")
    for name in ("invoice", "customer", "step", "action", "amount"):
        table.add_column(name, no_wrap=True)
    table.add_column("reason", no_wrap=True, overflow="ellipsis", max_width=38)
    for action in shown:
        data = action.to_dict()
        invoice = data["invoice"]
        number = invoice["number"] if isinstance(invoice, dict) else f"{len(action.items)} invoices"
        amount = f"{data['amount']} {data['currency']}" if data["amount"] else ""
        table.add_row(
            str(number),
            action.customer_id,
            action.step_id or "",
            str(action.kind),
            amount,
            action.reason,
        )
    console.print(table)
    if len(result.actions) > len(shown):
        more = len(result.actions) - len(shown)
        console.print(f"... and {more} more: syncd --config {config_path} plan")
    console.print(f"by kind: {summary}")
    console.print(f"{len(result.actions)} action(s) planned (nothing was sent: demo plans only).")
    console.print(f"Explore the store: syncd --config {config_path} invoices --open")
