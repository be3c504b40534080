"""What a caller needs on the task: who, the number, the open invoices, the amount overdue
and what has happened so far. Built from the store (the provider's customer record as last
synced, with its phone number) when the task is made, and kept as it was then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connectors.base import InvoiceRecord, InvoiceStatus

from ..store.models import CallTask, Customer, Hold, Invoice, OutboxAction, OutboxStatus

HISTORY_LIMIT = 40


@dataclass(frozen=True)
class TaskDraft:
    customer_name: str | None
    phone: str | None
    amount: Decimal
    currency: str
    details: dict[str, Any]


def _invoices(
    session: Session, org_id: int, customer_id: str, fresh: InvoiceRecord, today: date
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Invoice)
        .where(
            Invoice.org_id == org_id,
            Invoice.customer_provider_id == customer_id,
            Invoice.status == InvoiceStatus.OPEN.value,
            Invoice.balance > 0,
        )
        .order_by(Invoice.due_date, Invoice.provider_id)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        out[r.provider_id] = _line(
            r.provider_id, r.number, r.due_date, r.balance, r.currency, today
        )
    # the invoice the call is about, as the provider says it is now
    out[fresh.provider_id] = _line(
        fresh.provider_id, fresh.number, fresh.due_date, fresh.balance, fresh.currency, today
    )
    return sorted(out.values(), key=lambda i: (i["due_date"] or "", i["provider_id"]))


def _line(
    pid: str, number: str | None, due: date | None, balance: Decimal, currency: str, today: date
) -> dict[str, Any]:
    return {
        "provider_id": pid,
        "number": number,
        "due_date": due.isoformat() if due else None,
        "days_overdue": (today - due).days if due and due < today else 0,
        "balance": str(balance),
        "currency": currency,
    }


def _history(
    session: Session, org_id: int, customer_id: str, invoice_ids: list[str]
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    done = session.scalars(
        select(OutboxAction).where(
            OutboxAction.org_id == org_id,
            OutboxAction.customer_provider_id == customer_id,
            OutboxAction.status == OutboxStatus.DONE.value,
        )
    )
    for a in done:
        invoices = a.payload.get("invoices") or [a.payload.get("invoice") or {}]
        events.append(
            {
                "on": a.updated_at.isoformat(),
                "what": a.kind,
                "step": a.payload.get("step"),
                "invoices": [i.get("number") or i.get("provider_id") for i in invoices if i],
                "message_id": a.message_id,
            }
        )
    holds = session.scalars(
        select(Hold).where(
            Hold.org_id == org_id,
            or_(
                (Hold.scope == "customer") & (Hold.provider_id == customer_id),
                (Hold.scope == "invoice") & Hold.provider_id.in_(invoice_ids),
            ),
        )
    )
    for h in holds:
        until = f" until {h.until.isoformat()}" if h.until else ""
        events.append(
            {
                "on": h.created_at.isoformat(),
                "what": f"{h.kind} ({h.scope} {h.provider_id}){until}",
                "note": h.reason,
            }
        )
    calls = session.scalars(
        select(CallTask).where(
            CallTask.org_id == org_id,
            CallTask.customer_provider_id == customer_id,
            CallTask.done_at.is_not(None),
        )
    )
    for c in calls:
        assert c.done_at is not None
        events.append({"on": c.done_at.isoformat(), "what": f"call: {c.outcome}", "note": c.note})
    events.sort(key=lambda e: str(e["on"]))
    return events[-HISTORY_LIMIT:]


def draft_task(
    session: Session,
    org_id: int,
    customer_id: str,
    fresh: InvoiceRecord,
    today: date,
    instructions: str | None,
) -> TaskDraft:
    customer = session.scalar(
        select(Customer).where(Customer.org_id == org_id, Customer.provider_id == customer_id)
    )
    invoices = _invoices(session, org_id, customer_id, fresh, today)
    overdue: dict[str, Decimal] = {}
    for i in invoices:
        if i["days_overdue"] > 0:
            overdue[i["currency"]] = overdue.get(i["currency"], Decimal(0)) + Decimal(i["balance"])
    ids = [i["provider_id"] for i in invoices]
    return TaskDraft(
        customer_name=customer.name if customer else None,
        phone=customer.phone if customer else None,
        amount=overdue.get(fresh.currency) or fresh.balance,
        currency=fresh.currency,
        details={
            "invoices": invoices,
            "overdue": {cur: str(v) for cur, v in sorted(overdue.items())},
            "history": _history(session, org_id, customer_id, ids),
            "instructions": instructions,
        },
    )
