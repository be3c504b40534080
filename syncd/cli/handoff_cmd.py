"""``syncd handoff``: refer a customer's debt to an agency or a lawyer with its case file;
``syncd handoff status``: payments that arrived since, to pass on to the agency;
``syncd handoff release``: the agency returned the case, dunning continues."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from syncd.connections import org_id_for
from syncd.letters.handoff import (
    HandoffError,
    HandoffRequest,
    create_handoff,
    handoff_status,
    release_handoff,
)
from syncd.letters.render import LetterRenderer, LetterTemplateError
from syncd.letters.spec import letters_folder
from syncd.store.queries import round_money

from .context import state_of
from .ladder_common import fail, org_name, org_today, print_json

app = typer.Typer(
    help="Hand a customer's debt to an agency or lawyer (case file, no more automatic action).",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def handoff(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    customer: str | None = typer.Option(
        None, "--customer", help="The customer's provider id or name."
    ),
    to: str | None = typer.Option(None, "--to", help='Who takes the case, e.g. "Acme Recoveries".'),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the case file (.zip); default: the letters folder."
    ),
    by: str | None = typer.Option(None, "--by", help="Who decided (default: your user name)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if customer is None or to is None:
        fail('usage: syncd handoff --org O --customer C --to "Agency" [--out FILE.zip]')
    if out is not None and out.suffix.lower() != ".zip":
        fail(f"--out {out}: expected a .zip file name")
    state = state_of(ctx)
    name = org_name(state, org)
    config = state.config()
    letters = config.settings.letters
    base = config.path.parent.resolve()
    renderer = LetterRenderer(
        base / letters.templates_dir if letters.templates_dir else None,
        font_dir=base / letters.font_dir if letters.font_dir else None,
    )
    with state.store() as store:
        req = HandoffRequest(
            org_id=org_id_for(store, config, name, state.clock),
            org_name=name,
            customer=customer,
            agency=to,
            out=out.resolve() if out else None,
            folder=letters_folder(config),
            actor=by or getpass.getuser(),
            now=state.clock.now(),
            today=org_today(state, name),
        )
        try:
            made = create_handoff(store, req, renderer)
        except (HandoffError, LetterTemplateError) as exc:
            fail(str(exc))
        result = {
            "handoff": made.id,
            "customer": made.customer_provider_id,
            "agency": made.agency,
            "invoices": made.invoice_ids,
            "balance": str(round_money(made.balance, made.currency)),
            "currency": made.currency,
            "archive": made.archive_path,
        }
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"handed off customer {made.customer_provider_id} to {made.agency}: {result['balance']} "
        f"{made.currency} on {len(made.invoice_ids)} invoice(s)\ncase file: {made.archive_path}\n"
        "referral notes await approval (syncd review); no further automatic action for "
        "this customer"
    )


@app.command("status")
def status(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """Hand-offs in force and the payments that arrived since (tell the agency)."""
    state = state_of(ctx)
    names = (
        [org_name(state, org)]
        if org or len(state.config().settings.orgs) == 1
        else [o.name for o in state.config().settings.orgs]
    )
    rows: list[dict[str, Any]] = []
    with state.store() as store:
        for name in names:
            org_id = org_id_for(store, state.config(), name, state.clock)
            with store.sessions() as session:
                rows.extend({"org": name, **r} for r in handoff_status(session, org_id))
    if as_json:
        print_json(rows)
        return
    table = Table(title="hand-offs")
    for col in ("org", "customer", "agency", "since", "owed then", "owed now", "paid since"):
        table.add_column(col, overflow="fold")
    for r in rows:
        paid = ", ".join(
            f"{p['amount']} on {p['date']} ({p['invoice']})" for p in r["payments_since"]
        )
        table.add_row(
            r["org"],
            r["customer"],
            r["agency"],
            r["since"][:10],
            r["balance_at_handoff"],
            r["balance_now"],
            paid or "-",
        )
    Console(width=80).print(table)
    news = sum(len(r["payments_since"]) for r in rows)
    typer.echo(f"{len(rows)} hand-off(s); {news} payment(s) since to report to the agency")


@app.command("release")
def release(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="The org (needed if several)."),
    customer: str = typer.Option(..., "--customer", help="The customer's provider id or name."),
    reason: str = typer.Option(
        ..., "--reason", help='Why, e.g. "agency returned the case" (kept in the audit log).'
    ),
    by: str | None = typer.Option(None, "--by", help="Who decided (default: your user name)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
) -> None:
    """End a hand-off: dunning continues from where it stood (the time with the agency is
    off its clock); referral notes not yet approved are skipped."""
    state = state_of(ctx)
    name = org_name(state, org)
    with state.store() as store:
        org_id = org_id_for(store, state.config(), name, state.clock)
        try:
            done = release_handoff(
                store,
                org_id,
                customer,
                actor=by or getpass.getuser(),
                reason=reason,
                now=state.clock.now(),
            )
        except HandoffError as exc:
            fail(str(exc))
    if as_json:
        print_json(
            {
                "handoff": done.handoff,
                "customer": done.customer,
                "agency": done.agency,
                "skipped_notes": done.skipped_notes,
            }
        )
        return
    typer.echo(
        f"released hand-off {done.handoff} of customer {done.customer} ({done.agency}); "
        f"{done.skipped_notes} unapproved referral note(s) skipped; dunning continues"
    )
