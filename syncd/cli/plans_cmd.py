"""``syncd payment-plan create / show / list / cancel``.

A bad input (unknown invoice or customer, a paid invoice, invoices of another customer or
currency, amounts that do not add up) is one line on stderr, exit status 2, and nothing is
written. ``--json`` prints the result on stdout; logs stay on stderr.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.connections import org_id_for
from syncd.plans.agree import cancel_plan, create_plan, get_plan
from syncd.plans.common import LadderError
from syncd.store.models import Customer, OutboxAction, PaymentPlan

from ..config.loader import LoadedConfig
from ..store.queries import round_money
from .context import CliState, state_of
from .ladder_common import org_name
from .output import JSON_OPTION, ORG_OPTION

app = typer.Typer(help="Agree, follow and cancel payment plans.", no_args_is_help=True)

#: A plan's or settlement's view (its JSON form) printed for a person.
Printer = Callable[[dict[str, Any]], None]


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date like 2026-11-30, got {value!r}", param_hint=option
        ) from None


@contextmanager
def org_session(state: CliState, org: str | None, *, write: bool) -> Iterator[tuple[Session, int]]:
    """A session on the org's store; a :class:`LadderError` rolls back and exits 2."""
    org = org_name(state, org)
    with state.store() as store:
        org_id = org_id_for(store, state.config(), org, state.clock)
        try:
            with store.sessions.begin() if write else store.sessions() as session:
                yield session, org_id
        except LadderError as exc:
            typer.echo(f"syncd: {exc}", err=True)
            raise typer.Exit(2) from None


def emit(data: dict[str, Any], as_json: bool, show: Printer) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        show(data)


def add_show(
    app: typer.Typer,
    doc: str,
    ident: Any,
    read: Callable[[Session, int, int], dict[str, Any]],
    show: Printer,
) -> None:
    """Register ``show IDENT``: ``read(session, org_id, ident)`` gives the view printed."""

    def show_cmd(
        ctx: typer.Context,
        number: int = ident,
        org: str | None = ORG_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        with org_session(state_of(ctx), org, write=False) as (session, org_id):
            data = read(session, org_id, number)
        emit(data, as_json, show)

    show_cmd.__doc__ = doc
    app.command("show")(show_cmd)


@dataclass(frozen=True)
class Ending:
    """One ``cancel IDENT`` as typed: what to end, who decided and why, in which org."""

    session: Session
    config: LoadedConfig
    org: str
    org_id: int
    ident: int
    reason: str | None
    actor: str
    now: datetime


#: ``end(ending)``: ends it by hand, returns its view.
Canceller = Callable[[Ending], dict[str, Any]]


def add_cancel(app: typer.Typer, doc: str, ident: Any, end: Canceller, show: Printer) -> None:
    """Register ``cancel IDENT [--reason] [--by]`` (the actor defaults to the user's name)."""

    def cancel_cmd(
        ctx: typer.Context,
        number: int = ident,
        org: str | None = ORG_OPTION,
        reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
        by: str | None = typer.Option(None, "--by", help="Who decided (default: your user name)."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        state = state_of(ctx)
        org = org_name(state, org)
        with org_session(state, org, write=True) as (session, org_id):
            actor = by or getpass.getuser()
            when = state.clock.now()
            data = end(Ending(session, state.config(), org, org_id, number, reason, actor, when))
        emit(data, as_json, show)

    cancel_cmd.__doc__ = doc
    app.command("cancel")(cancel_cmd)


def plan_json(session: Session, plan: PaymentPlan) -> dict[str, Any]:
    name = session.scalar(
        select(Customer.name).where(
            Customer.org_id == plan.org_id, Customer.provider_id == plan.customer_provider_id
        )
    )
    confirmation = session.scalar(
        select(OutboxAction.status).where(
            OutboxAction.org_id == plan.org_id,
            OutboxAction.kind == "plan_confirmation",
            OutboxAction.payload["plan_id"].as_integer() == plan.id,
        )
    )
    return {
        "id": plan.id,
        "customer": plan.customer_provider_id,
        "customer_name": name,
        "status": plan.status,
        "currency": plan.currency,
        "amount": str(round_money(plan.amount, plan.currency)),
        "every": plan.every,
        "created_at": plan.created_at.isoformat(),
        "by": plan.actor,
        "ended_at": plan.ended_at.isoformat() if plan.ended_at else None,
        "end_reason": plan.end_reason,
        "on_break": plan.on_break,
        "confirmation": confirmation,
        "invoices": [
            {
                "id": i.invoice_provider_id,
                "number": i.number,
                "balance": str(round_money(i.balance, plan.currency)),
            }
            for i in plan.invoices
        ],
        "instalments": [
            {
                "number": i.number,
                "due": i.due_date.isoformat(),
                "amount": str(round_money(i.amount, plan.currency)),
                "paid": str(round_money(i.paid, plan.currency)),
                "met_on": i.met_on.isoformat() if i.met_on else None,
            }
            for i in plan.instalments
        ],
    }


def _print_plan(data: dict[str, Any]) -> None:
    console = Console(width=80)
    console.print(
        f"Payment plan {data['id']} for {data['customer_name'] or data['customer']}: "
        f"{data['amount']} {data['currency']} every {data['every']}, {data['status']}"
        + (f" ({data['end_reason']})" if data["end_reason"] else ""),
        markup=False,
        highlight=False,
    )
    invoices = ", ".join(str(i["number"] or i["id"]) for i in data["invoices"])
    console.print(f"Invoices: {invoices}", markup=False, highlight=False)
    table = Table("#", "due", "amount", "paid", "met on")
    for i in data["instalments"]:
        table.add_row(
            "deposit" if i["number"] == 0 else str(i["number"]),
            i["due"],
            f"{i['amount']} {data['currency']}",
            i["paid"],
            i["met_on"] or "",
        )
    console.print(table)
    if data["confirmation"]:
        console.print(f"Confirmation email: {data['confirmation']}", highlight=False)


@app.command("create")
def create(
    ctx: typer.Context,
    org: str | None = ORG_OPTION,
    customer: str = typer.Option(..., "--customer", help="Customer id or exact name."),
    invoice: list[str] = typer.Option(..., "--invoice", help="Invoice number or id; repeat."),
    instalments: int = typer.Option(
        ..., "--instalments", min=1, max=120, help="How many instalments (1-120)."
    ),
    every: str = typer.Option(..., "--every", help="month, week or Ndays (e.g. 14days)."),
    first: str = typer.Option(..., "--first", help="Date of the first payment."),
    deposit: str | None = typer.Option(None, "--deposit", help="Paid first, on --first."),
    by: str | None = typer.Option(None, "--by", help="Who agreed it (default: your user)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Agree a payment plan: no ordinary dunning while it is kept; confirmed in writing."""
    state = state_of(ctx)
    org = org_name(state, org)
    day = parse_day(first, "--first")
    with org_session(state, org, write=True) as (session, org_id):
        plan = create_plan(
            session,
            state.config(),
            org,
            org_id,
            customer_ref=customer,
            invoice_refs=[r.strip() for value in invoice for r in value.split(",") if r.strip()],
            instalments=instalments,
            every=every,
            first=day,
            deposit=deposit,
            actor=by or getpass.getuser(),
            now=state.clock.now(),
        )
        data = plan_json(session, plan)
    emit(data, as_json, _print_plan)


add_show(
    app,
    "A plan, its schedule and what has been paid.",
    typer.Argument(..., help="The plan's number.", metavar="plan_id"),
    lambda session, org_id, ident: plan_json(session, get_plan(session, org_id, ident)),
    _print_plan,
)


@app.command("list")
def list_plans(
    ctx: typer.Context,
    org: str | None = ORG_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Every plan of the org, newest first."""
    with org_session(state_of(ctx), org, write=False) as (session, org_id):
        plans = session.scalars(
            select(PaymentPlan).where(PaymentPlan.org_id == org_id).order_by(PaymentPlan.id.desc())
        ).all()
        rows = [plan_json(session, p) for p in plans]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("plan", "customer", "amount", "status", "next due")
    for r in rows:
        due = next((i["due"] for i in r["instalments"] if not i["met_on"]), "")
        table.add_row(
            str(r["id"]),
            str(r["customer_name"] or r["customer"])[:28],
            f"{r['amount']} {r['currency']}",
            r["status"],
            due if r["status"] == "active" else "",
        )
    Console(width=80).print(table)
    typer.echo(f"{len(rows)} plan(s)")


def _cancel(e: Ending) -> dict[str, Any]:
    plan = cancel_plan(
        e.session, e.config, e.org, e.org_id, e.ident, reason=e.reason, actor=e.actor, now=e.now
    )
    return plan_json(e.session, plan)


add_cancel(
    app,
    "End a plan by hand: dunning resumes where it stood.",
    typer.Argument(..., help="The plan's number.", metavar="plan_id"),
    _cancel,
    _print_plan,
)
