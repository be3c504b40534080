"""Finding what to preview for an invoice: its queued actions, else a read-only plan.

A plan made here is never written anywhere: the actions become transient outbox rows that
only the renderer sees.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from policies import PlannedAction, available_policies, plan_cycle

from ..config.loader import LoadedConfig
from ..dunning.planning import org_context
from ..dunning.snapshots import load_inputs
from ..store.models import Invoice, OutboxAction, OutboxStatus
from .golive import go_live_for

#: Queued actions a preview may show (the others already ran, or never will).
OPEN_STATES = (OutboxStatus.AWAITING_REVIEW.value, OutboxStatus.PENDING.value)


def find_invoice(session: Session, org_id: int, invoice: str) -> Invoice | None:
    """By number first (what people see), else by provider id."""
    rows = session.scalars(
        select(Invoice).where(
            Invoice.org_id == org_id,
            or_(Invoice.number == invoice, Invoice.provider_id == invoice),
        )
    ).all()
    by_number = [r for r in rows if r.number == invoice]
    chosen = by_number or list(rows)
    return chosen[0] if chosen else None


def _touches(payload: dict[str, object], invoice_id: str, step: str | None) -> bool:
    items = payload.get("invoices") or []
    assert isinstance(items, list)
    for item in items:
        if item.get("provider_id") == invoice_id and step in (None, item.get("step")):
            return True
    single = payload.get("invoice")
    if isinstance(single, dict) and single.get("provider_id") == invoice_id:
        return step in (None, payload.get("step"))
    return False


def queued_for(session: Session, org_id: int, inv: Invoice, step: str | None) -> list[OutboxAction]:
    rows = session.scalars(
        select(OutboxAction)
        .where(
            OutboxAction.org_id == org_id,
            OutboxAction.customer_provider_id == inv.customer_provider_id,
            OutboxAction.status.in_(OPEN_STATES),
        )
        .order_by(OutboxAction.id)
    ).all()
    return [r for r in rows if _touches(r.payload, inv.provider_id, step)]


def _as_transient(action: PlannedAction, org_id: int, now: datetime) -> OutboxAction:
    return OutboxAction(
        org_id=org_id,
        idempotency_key=str(action.key),
        kind=str(action.kind),
        invoice_provider_id=action.invoice_id,
        customer_provider_id=action.customer_id,
        payload=action.to_dict(),
        status=OutboxStatus.PENDING.value,
        attempts=0,
        scheduled_for=action.scheduled_for,
        created_at=now,
        updated_at=now,
    )


def planned_for(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    inv: Invoice,
    step: str | None,
    now: datetime,
) -> list[OutboxAction]:
    """Plan the invoice's customer now (and, for a ``step`` not due yet, on that step's day)."""
    ctx = org_context(
        config, org_name, go_live_for(session, config, org_name, org_id, record=False)
    )
    inputs = [
        i
        for i in load_inputs(session, org_id, ctx.timezone)
        if i.invoice.customer_id == inv.customer_provider_id
    ]
    moments = [now]
    if step is not None and inv.due_date is not None:
        for policy in available_policies(config.policies).values():
            for s in policy.steps:
                if s.id == step:
                    day = inv.due_date + timedelta(days=s.days)
                    moments.append(
                        datetime.combine(day, time(9), tzinfo=ZoneInfo(str(ctx.timezone)))
                    )
    for as_of in sorted({m for m in moments if m >= now}):
        result = plan_cycle(
            org=ctx,
            policies=config.policies,
            settings=config.dunning[org_name],
            as_of=as_of,
            invoices=inputs,
        )
        rows = [
            _as_transient(a, org_id, now)
            for a in result.actions
            if _touches(a.to_dict(), inv.provider_id, step)
        ]
        if rows:
            return rows
    return []
