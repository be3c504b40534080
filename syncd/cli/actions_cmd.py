"""``syncd actions``: the action outbox as a table or JSON, and ``actions show ID``, the
detail view (full payload, reason, history) that the table's one-line cells point to."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from syncd.review.queue import Pending
from syncd.store.models import AuditEntry, Customer, Invoice, OutboxAction, OutboxStatus
from syncd.store.models import Org as OrgRow

from .context import state_of
from .output import JSON_OPTION, Col, emit, fail, fit_table, known_orgs, say

app = typer.Typer(
    help="The action outbox: list (default) or show one action in full.",
    invoke_without_command=True,
)

COLUMNS = [
    Col("id"),
    Col("invoice"),
    Col("customer", "wrap", 22),
    Col("action"),
    Col("status"),
    Col("amount"),
    Col("on"),
    Col("note", "trim"),
]


#: Status words short enough for an 80-column table (JSON keeps the full names).
_SHORT = {OutboxStatus.AWAITING_REVIEW.value: "review", OutboxStatus.IN_FLIGHT.value: "in-flight"}


def _invoices(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = list(payload.get("invoices") or [])
    single = payload.get("invoice")
    return items or ([dict(single)] if isinstance(single, dict) else [])


def _to_dict(
    a: OutboxAction, org: str, customer_name: str | None, number: str | None = None
) -> dict[str, Any]:
    """``number``: the number of the row's own invoice, for actions whose payload names none
    (the notes of payment plans and settlements)."""
    invoices = _invoices(a.payload)
    if not invoices and a.invoice_provider_id:
        invoices = [{"provider_id": a.invoice_provider_id, "number": number}]
    amount, currency = Pending(a, org, customer_name, invoices).amount()
    return {
        "id": a.id,
        "org": org,
        "key": a.idempotency_key,
        "kind": a.kind,
        "step": a.payload.get("step"),
        "invoice": a.invoice_provider_id,
        "numbers": [str(i.get("number") or i.get("provider_id")) for i in invoices],
        "customer": a.customer_provider_id,
        "customer_name": customer_name,
        "amount": None if amount is None else str(amount),
        "currency": currency,
        "status": a.status,
        "attempts": a.attempts,
        "scheduled_for": a.scheduled_for.isoformat(),
        "next_attempt_at": a.next_attempt_at.isoformat() if a.next_attempt_at else None,
        "last_error": a.last_error,
        "held_because": a.review_reason,
        "remote_id": a.remote_id,
        "message_id": a.message_id,
    }


def _query() -> Any:
    return (
        select(OutboxAction, OrgRow.name, Customer.name, Invoice.number)
        .join(OrgRow, OrgRow.id == OutboxAction.org_id)
        .outerjoin(
            Customer,
            and_(
                Customer.org_id == OutboxAction.org_id,
                Customer.provider_id == OutboxAction.customer_provider_id,
            ),
        )
        .outerjoin(
            Invoice,
            and_(
                Invoice.org_id == OutboxAction.org_id,
                Invoice.provider_id == OutboxAction.invoice_provider_id,
            ),
        )
    )


def _row(d: dict[str, Any]) -> list[str]:
    return [
        str(d["id"]),
        "\n".join(d["numbers"]),  # one a line: never cut inside a number
        str(d["customer_name"] or d["customer"] or ""),
        str(d["kind"]),
        _SHORT.get(d["status"], d["status"]) + (f" ({d['attempts']})" if d["attempts"] > 1 else ""),
        f"{d['amount']} {d['currency']}" if d["amount"] is not None else "",
        str(d["scheduled_for"])[:10],
        str(d["last_error"] or d["held_because"] or ""),
    ]


@app.callback()
def actions(
    ctx: typer.Context,
    org: str | None = typer.Option(None, "--org", help="Only this org."),
    status: OutboxStatus | None = typer.Option(
        None, "--status", help="Only actions in this state."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the action outbox; `syncd actions show ID` shows one in full."""
    if ctx.invoked_subcommand is not None:
        return
    state = state_of(ctx)
    config = state.config()
    known_orgs([o.name for o in config.settings.orgs], org, config.path)
    with state.store() as store, store.sessions() as session:
        stmt = _query()
        if org:
            stmt = stmt.where(OrgRow.name == org)
        if status:
            stmt = stmt.where(OutboxAction.status == status.value)
        rows = session.execute(stmt.order_by(OutboxAction.id)).all()
        data = [_to_dict(a, name, cust, number) for a, name, cust, number in rows]

    def render(console: Console) -> None:
        if data:
            console.print(fit_table(console.width, COLUMNS, [_row(d) for d in data]))
        console.print(f"{len(data)} action(s); details: syncd actions show ID", markup=False)

    emit(data, as_json, render)


def _history(session: Session, row: OutboxAction) -> list[dict[str, Any]]:
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.org_id == row.org_id,
            AuditEntry.subject_type == "action",
            AuditEntry.subject_id == row.idempotency_key,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return [
        {"at": e.at.isoformat(), "event": e.event, "actor": e.actor, "details": e.details}
        for e in entries
    ]


def _print_detail(console: Console, d: dict[str, Any]) -> None:
    say(console, f"action {d['id']}: {d['kind']} (step {d['step']}) in org {d['org']}")
    say(console, f"customer: {d['customer_name'] or '?'} ({d['customer']})")
    say(console, f"invoices: {', '.join(d['numbers']) or '-'}")
    if d["amount"] is not None:
        say(console, f"amount: {d['amount']} {d['currency']}")
    say(
        console,
        f"status: {d['status']} after {d['attempts']} attempt(s); scheduled {d['scheduled_for']}",
    )
    for label, key in (
        ("why", "why"),
        ("held for review", "held_because"),
        ("last error", "last_error"),
        ("provider record", "remote_id"),
        ("Message-ID", "message_id"),
        ("key", "key"),
    ):
        if d.get(key):
            say(console, f"{label}: {d[key]}")
    say(console, "history:")
    for h in d["history"] or [{"at": "", "event": "(none recorded)", "actor": "", "details": {}}]:
        extra = f" {json.dumps(h['details'], default=str)}" if h["details"] else ""
        say(console, f"  {h['at'][:19]} {h['event']} by {h['actor']}{extra}".rstrip())
    say(console, "payload:")
    say(console, json.dumps(d["payload"], indent=2, default=str))


@app.command("show")
def show(
    ctx: typer.Context,
    action_id: int = typer.Argument(..., help="Outbox id (see `syncd actions`)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """One action in full: the reason, its payload and its history from the audit log."""
    state = state_of(ctx)
    with state.store() as store, store.sessions() as session:
        found = session.execute(_query().where(OutboxAction.id == action_id)).first()
        if found is None:
            fail(f"no action {action_id} in the outbox (see `syncd actions`)")
        row, org, cust, number = found
        data = {
            **_to_dict(row, org, cust, number),
            "why": row.payload.get("reason"),
            "payload": row.payload,
            "result": row.result,
            "history": _history(session, row),
        }
    emit(data, as_json, lambda console: _print_detail(console, data))
