"""``syncd review``: what waits for a human, and approving or skipping it (audited)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from syncd.review.queue import Pending, ReviewError, Selection, approve, pending, skip
from syncd.review.render import Rendered, render_action
from syncd.store.queries import customer_names

from .context import CliState, state_of

app = typer.Typer(
    help="Actions held for review: list (default), approve, skip.",
    invoke_without_command=True,
)


def _check_org(state: CliState, org: str | None) -> None:
    if org is not None and org not in {o.name for o in state.config().settings.orgs}:
        typer.echo(f"syncd: no org named {org!r} in {state.config().path}", err=True)
        raise typer.Exit(2)


def _render(state: CliState, item: Pending, store: Any) -> Rendered | None:
    config = state.config()
    if item.org not in {o.name for o in config.settings.orgs}:
        return None
    return render_action(store, config, item.org, item.row.org_id, item.row, state.clock)


def as_json(item: Pending, shown: Rendered | None) -> dict[str, Any]:
    amount, currency = item.amount()
    single = item.invoices[0] if len(item.invoices) == 1 else {}
    payload = item.row.payload
    return {
        "id": item.row.id,
        "org": item.org,
        "customer": item.customer,
        "customer_name": item.customer_name,
        "invoice": single.get("provider_id"),
        "number": single.get("number"),
        "invoices": [
            {k: i.get(k) for k in ("provider_id", "number", "balance", "currency", "step")}
            for i in item.invoices
        ],
        "kind": item.row.kind,
        "step": payload.get("step"),
        "amount": None if amount is None else str(amount),
        "currency": currency,
        "fee": None
        if shown is None or shown.fee is None
        else {"description": shown.fee.description, "amount": str(shown.fee.amount)},
        "subject": shown.subject if shown else None,
        "first_lines": shown.first_lines() if shown else [],
        "note": shown.note if shown else None,
        "problem": shown.problem if shown else "org not in the config",
        "held_because": item.row.review_reason,
        "why": payload.get("reason"),
        "scheduled_for": item.row.scheduled_for.isoformat(),
    }


def _print(items: list[dict[str, Any]]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    if not items:
        console.print("nothing awaits review")
        return
    customer: tuple[str, str | None] | None = None
    for d in items:
        if (d["org"], d["customer"]) != customer:
            customer = (d["org"], d["customer"])
            console.print(
                Text.assemble(
                    "\n",
                    (f"{d['org']} / {d['customer_name'] or '?'}", "bold"),
                    f" ({d['customer']})",
                )
            )
        numbers = ", ".join(str(i.get("number") or i.get("provider_id")) for i in d["invoices"])
        money = f"{d['amount']} {d['currency']}" if d["amount"] is not None else ""
        # Id, action and amount on one short line; the invoice list on its own (80 columns).
        console.print(f"  #{d['id']} {d['kind']} {money}".rstrip(), markup=False)
        where = [f"step {d['step']}"] if d["step"] else []  # plans and hand-offs have none
        where += [f"invoice(s) {numbers}"] if numbers else []
        if where:
            console.print("      " + ", ".join(where), markup=False)
        if d["fee"]:
            console.print(f"      fee line: {d['fee']['description']} ({d['fee']['amount']})")
        if d["subject"]:
            console.print(f"      subject: {d['subject']}")
            for line in d["first_lines"]:
                console.print(f"      | {line}", markup=False)
        if d["note"]:
            console.print(f"      note: {d['note']}", markup=False)
        if d["problem"]:
            console.print(f"      [red]{d['problem']}[/red]")
        console.print(f"      held: {d['held_because']}", markup=False)
    console.print(f"\n{len(items)} action(s) await review")


@app.callback()
def review(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    json_out: bool = typer.Option(False, "--json", help="A JSON array, one object per action."),
) -> None:
    """List the actions awaiting review, grouped by customer."""
    if ctx.invoked_subcommand is not None:
        return
    state = state_of(ctx)
    _check_org(state, org)
    with state.store() as store:
        with store.sessions() as session:
            items = pending(session, Selection(org=org))
            for item in items:
                session.expunge(item.row)
        data = [as_json(i, _render(state, i, store)) for i in items]
    if json_out:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print(data)


def _decide(
    ctx: typer.Context,
    ids: list[int] | None,
    customer: str | None,
    kind: str | None,
    everything: bool,
    org: str | None,
    by: str | None,
    reason: str | None,
) -> None:
    state = state_of(ctx)
    _check_org(state, org)
    selection = Selection(tuple(ids or ()), customer, kind, everything, org)
    actor = by or getpass.getuser()
    now = state.clock.now()
    with state.store() as store:
        try:
            with store.sessions.begin() as session:
                if reason is None:
                    rows = approve(session, selection, now=now, by=actor)
                else:
                    rows = skip(session, selection, now=now, by=actor, reason=reason)
                names = customer_names(session, sorted({r.org_id for r in rows}))
                done = [
                    (r.id, r.kind, names.get((r.org_id, r.customer_provider_id or ""), ""))
                    for r in rows
                ]
        except ReviewError as exc:
            typer.echo(f"syncd: {exc}", err=True)
            raise typer.Exit(2) from None
    verb = "approved" if reason is None else "skipped"
    table = Table("id", "kind", "customer", title=f"{verb} by {actor}")
    for action_id, kind_, cust in done:
        table.add_row(str(action_id), kind_, Text(cust))
    Console(highlight=False).print(table)
    typer.echo(f"{len(done)} action(s) {verb}")


IDS = typer.Argument(None, help="Outbox ids (see `syncd review`).")
CUSTOMER = typer.Option(None, "--customer", help="A customer's provider id or exact name.")
KIND = typer.Option(None, "--kind", help="email, late_fee, interest, note, escalate, ...")
ALL = typer.Option(False, "--all", help="Every action awaiting review (with --org: that org's).")
ORG = typer.Option(None, "--org", help="Only this org.")
BY = typer.Option(None, "--by", help="Who decides (default: your user name).")


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    ids: list[int] | None = IDS,
    customer: str | None = CUSTOMER,
    kind: str | None = KIND,
    everything: bool = ALL,
    org: str | None = ORG,
    by: str | None = BY,
) -> None:
    """Approve: the actions run at the next executor pass (run-once or the daemon)."""
    _decide(ctx, ids, customer, kind, everything, org, by, None)


@app.command("skip")
def skip_cmd(
    ctx: typer.Context,
    ids: list[int] | None = IDS,
    customer: str | None = CUSTOMER,
    kind: str | None = KIND,
    everything: bool = ALL,
    org: str | None = ORG,
    by: str | None = BY,
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Skip: the actions are closed for good and never planned again."""
    _decide(ctx, ids, customer, kind, everything, org, by, reason)
