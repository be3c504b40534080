"""``syncd settle``: record an agreed reduced payment; ``settle list / show / cancel``.

When payments reaching the agreed amount arrive by the date, the next cycle queues the
credit note for the rest (held for approval unless the org exempts ``credit``); if the date
passes first the offer lapses and dunning resumes.
"""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.plans.common import local_day
from syncd.plans.settlements import (
    cancel_settlement,
    create_settlement,
    get_settlement,
    list_settlements,
)
from syncd.store.models import Invoice, Settlement

from ..store.queries import round_money
from .context import state_of
from .ladder_common import org_name
from .output import JSON_OPTION, ORG_OPTION
from .plans_cmd import Ending, add_cancel, add_show, emit, org_session, parse_day

app = typer.Typer(
    help="Settle an invoice for less: --org, --invoice, --amount, --pay-by [--note].",
    invoke_without_command=True,
)


def _numbers(session: Session, found: list[Settlement]) -> dict[str, str | None]:
    """The settlements' invoice numbers by provider id, in one query (``settle list``)."""
    if not found:
        return {}
    rows = session.execute(
        select(Invoice.provider_id, Invoice.number).where(
            Invoice.org_id == found[0].org_id,
            Invoice.provider_id.in_({s.invoice_provider_id for s in found}),
        )
    )
    return {pid: number for pid, number in rows}


def settlement_json(session: Session, s: Settlement) -> dict[str, Any]:
    return _settlement_dict(s, _numbers(session, [s]).get(s.invoice_provider_id))


def _settlement_dict(s: Settlement, number: str | None) -> dict[str, Any]:
    return {
        "id": s.id,
        "invoice": s.invoice_provider_id,
        "invoice_number": number,
        "customer": s.customer_provider_id,
        "currency": s.currency,
        "balance": str(round_money(s.balance, s.currency)),
        "agreed": str(round_money(s.agreed_amount, s.currency)),
        "write_off": str(round_money(s.balance - s.agreed_amount, s.currency)),
        "pay_by": s.pay_by.isoformat(),
        "note": s.note,
        "status": s.status,
        "met_on": s.met_on.isoformat() if s.met_on else None,
        "credit_action": s.credit_key,
        "created_at": s.created_at.isoformat(),
        "by": s.actor,
        "end_reason": s.end_reason,
    }


def _print(data: dict[str, Any]) -> None:
    typer.echo(
        f"Settlement {data['id']} on invoice {data['invoice_number'] or data['invoice']}: "
        f"{data['agreed']} "
        f"{data['currency']} by {data['pay_by']} (balance {data['balance']}, "
        f"write-off {data['write_off']}), {data['status']}"
        + (f": {data['end_reason']}" if data["end_reason"] else "")
    )


@app.callback()
def settle(
    ctx: typer.Context,
    org: str | None = ORG_OPTION,
    invoice: str | None = typer.Option(None, "--invoice", help="Invoice number or id."),
    amount: str | None = typer.Option(None, "--amount", help="The agreed amount."),
    pay_by: str | None = typer.Option(None, "--pay-by", help="Last day to pay it."),
    note: str | None = typer.Option(None, "--note", help="Text kept with the settlement."),
    by: str | None = typer.Option(None, "--by", help="Who agreed it (default: your user)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a settlement offer; the rest is credited once the agreed amount is paid."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [
        name
        for name, value in (("--invoice", invoice), ("--amount", amount), ("--pay-by", pay_by))
        if value is None
    ]  # fmt: skip
    if missing:
        typer.echo(f"syncd: settle needs {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    assert invoice is not None and amount is not None and pay_by is not None
    state = state_of(ctx)
    org = org_name(state, org)
    day = parse_day(pay_by, "--pay-by")
    now = state.clock.now()
    with org_session(state, org, write=True) as (session, org_id):
        found = create_settlement(
            session,
            org_id,
            invoice_ref=invoice,
            amount=amount,
            pay_by=day,
            note=note,
            today=local_day(now, state.config().settings.org(org).timezone),
            actor=by or getpass.getuser(),
            now=now,
        )
        data = settlement_json(session, found)
    emit(data, as_json, _print)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    org: str | None = ORG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Every settlement of the org."""
    with org_session(state_of(ctx), org, write=False) as (session, org_id):
        found = list_settlements(session, org_id)
        numbers = _numbers(session, found)
        rows = [_settlement_dict(s, numbers.get(s.invoice_provider_id)) for s in found]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "invoice", "agreed", "pay by", "status")
    for r in rows:
        invoice = str(r["invoice_number"] or r["invoice"])[:20]
        agreed = f"{r['agreed']} {r['currency']}"
        table.add_row(str(r["id"]), invoice, agreed, r["pay_by"], r["status"])
    Console(width=80).print(table)


def _cancel(e: Ending) -> dict[str, Any]:
    found = cancel_settlement(
        e.session, e.org_id, e.ident, reason=e.reason, actor=e.actor, now=e.now
    )
    return settlement_json(e.session, found)


add_show(
    app,
    "One settlement.",
    typer.Argument(..., help="The settlement's number.", metavar="ident"),
    lambda session, org_id, ident: settlement_json(session, get_settlement(session, org_id, ident)),
    _print,
)
add_cancel(
    app,
    "Withdraw a pending offer: dunning resumes where it stood.",
    typer.Argument(..., help="The settlement's number (see `syncd settle list`).", metavar="ident"),
    _cancel,
    _print,
)
