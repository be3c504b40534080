"""``syncd tasks``: call tasks for people (the ``call`` action kind): list, show, done."""

from __future__ import annotations

import getpass
import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from syncd.calls.outcomes import OUTCOMES, Report, TaskError, find_task, record_outcome
from syncd.outbox.handlers.call import describe_draft
from syncd.store.models import CallTask, Org

from .context import CliState, state_of

app = typer.Typer(
    help="Call tasks for people: list (default), show ID, done ID --outcome ...",
    invoke_without_command=True,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"syncd: {message}", err=True)
    return typer.Exit(2)


def _check_org(state: CliState, org: str | None) -> None:
    if org is not None and org not in {o.name for o in state.config().settings.orgs}:
        raise _fail(f"no org named {org!r} in {state.config().path}")


def as_json(task: CallTask, org: str) -> dict[str, Any]:
    return {
        "id": task.id,
        "org": org,
        "status": task.status,
        "customer": task.customer_provider_id,
        "customer_name": task.customer_name,
        "phone": task.phone,
        "invoice": task.invoice_provider_id,
        "amount": str(task.amount),
        "currency": task.currency,
        "invoices": task.details.get("invoices") or [],
        "overdue": task.details.get("overdue") or {},
        "history": task.details.get("history") or [],
        "instructions": task.details.get("instructions"),
        "created_at": task.created_at.isoformat(),
        "outcome": task.outcome,
        "until": task.until.isoformat() if task.until else None,
        "note": task.note,
        "done_at": task.done_at.isoformat() if task.done_at else None,
        "done_by": task.done_by,
    }


def _numbers(d: dict[str, Any]) -> str:
    shown = [str(i.get("number") or i.get("provider_id")) for i in d["invoices"]]
    return ", ".join(shown[:3]) + (f" +{len(shown) - 3}" if len(shown) > 3 else "")


@app.callback()
def tasks(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    show_all: bool = typer.Option(False, "--all", help="Done tasks too."),
    json_out: bool = typer.Option(False, "--json", help="A JSON array, one object per task."),
) -> None:
    """List the open call tasks (oldest first)."""
    if ctx.invoked_subcommand is not None:
        return
    state = state_of(ctx)
    _check_org(state, org)
    with state.store() as store, store.sessions() as session:
        stmt = select(CallTask, Org.name).join(Org, Org.id == CallTask.org_id)
        if org is not None:
            stmt = stmt.where(Org.name == org)
        if not show_all:
            stmt = stmt.where(CallTask.status == "open")
        rows = [as_json(t, name) for t, name in session.execute(stmt.order_by(CallTask.id))]
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no open call tasks" if not show_all else "no call tasks")
        return
    table = Table("id", "customer", "phone", "invoices", "overdue", "status", width=80)
    for d in rows:
        status = d["status"] if d["outcome"] is None else f"{d['outcome']}"
        table.add_row(
            str(d["id"]),
            d["customer_name"] or d["customer"],
            d["phone"] or "-",
            _numbers(d),
            f"{d['amount']} {d['currency']}",
            status,
        )
    Console(highlight=False, width=80).print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    task_id: int = typer.Argument(..., help="A task id (see `syncd tasks`)."),
    json_out: bool = typer.Option(False, "--json", help="The task as a JSON object."),
) -> None:
    """Everything the caller needs: the number, the invoices, the amount, the history."""
    state = state_of(ctx)
    with state.store() as store, store.sessions() as session:
        try:
            task = find_task(session, task_id)
        except TaskError as exc:
            raise _fail(str(exc)) from None
        org = session.get(Org, task.org_id)
        d = as_json(task, org.name if org else "?")
    if json_out:
        typer.echo(json.dumps(d, indent=2))
        return
    typer.echo(f"task {d['id']} ({d['org']}), {d['status']}, created {d['created_at']}")
    typer.echo(describe_draft(d["customer_name"], d["phone"], task_details(d)))
    for e in d["history"]:
        extra = f" ({e['note']})" if e.get("note") else ""
        where = f" on {', '.join(map(str, e['invoices']))}" if e.get("invoices") else ""
        typer.echo(f"  {e['on'][:10]} {e['what']}{where}{extra}")
    if d["outcome"]:
        until = f" until {d['until']}" if d["until"] else ""
        typer.echo(f"outcome: {d['outcome']}{until} by {d['done_by']} at {d['done_at']}")
        if d["note"]:
            typer.echo(f"note: {d['note']}")


def task_details(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("invoices", "overdue", "history", "instructions")}


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--until: expected a date like 2026-11-30, got {value!r}") from None


@app.command("done")
def done(
    ctx: typer.Context,
    task_id: int = typer.Argument(..., help="A task id (see `syncd tasks`)."),
    outcome: str = typer.Option(..., "--outcome", help="paid, promise, dispute or no-answer."),
    until: str | None = typer.Option(None, "--until", help="With promise: the promised date."),
    note: str | None = typer.Option(None, "--note", help="What was said (kept on the task)."),
    by: str | None = typer.Option(None, "--by", help="Who called (default: your user name)."),
    json_out: bool = typer.Option(False, "--json", help="The closed task as a JSON object."),
) -> None:
    """Record the call's outcome: a promise pauses dunning until --until, a dispute stops it."""
    if outcome not in OUTCOMES:
        raise _fail(f"--outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    promised = _date(until)
    state = state_of(ctx)
    config = state.config()
    report = Report(outcome, promised, note, by or getpass.getuser())
    now = state.clock.now()
    with state.store() as store:
        try:
            with store.sessions.begin() as session:
                task = find_task(session, task_id)
                org = session.get(Org, task.org_id)
                assert org is not None
                tz = next((o.timezone for o in config.settings.orgs if o.name == org.name), "UTC")
                today = now.astimezone(ZoneInfo(tz)).date()
                held = record_outcome(session, task, report, now=now, today=today)
                d = as_json(task, org.name)
        except TaskError as exc:
            raise _fail(str(exc)) from None
    if json_out:
        typer.echo(json.dumps({**d, "holds": held}, indent=2))
        return
    what = {
        "promise": f"dunning paused until {until} on {len(held)} invoice(s)",
        "dispute": f"dunning stopped by a dispute hold on {len(held)} invoice(s)",
        "paid": "recorded; the next sync confirms the payment",
        "no-answer": "recorded; the policy's next step proceeds",
    }[outcome]
    typer.echo(f"task {task_id} done: {outcome}: {what}")
