"""``call``: make a task for a person to phone the customer (``syncd tasks``).

The invoice is read fresh first (a paid one gets no call). The task is keyed by the
action's idempotency key, so an action recovered after a crash finds the task it already
made instead of making a second.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...calls.details import draft_task
from ...store.audit import record
from ...store.models import CallTask, OutboxAction
from .base import ExecContext, Handler, PreviewContext, Rendered
from .registry import register


def _instructions(row: OutboxAction) -> str | None:
    data = row.payload.get("data") or {}
    value = data.get("instructions")
    return str(value) if value else None


class CallHandler(Handler):
    kind = "call"

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        assert row.invoice_provider_id is not None and row.customer_provider_id is not None
        fresh = ex.fresh(row.invoice_provider_id)
        now = ex.now()
        with ex.store.sessions.begin() as session:
            task = session.scalar(
                select(CallTask).where(
                    CallTask.org_id == ex.org_id, CallTask.idempotency_key == row.idempotency_key
                )
            )
            if task is None:
                draft = draft_task(
                    session,
                    ex.org_id,
                    row.customer_provider_id,
                    fresh,
                    now.date(),
                    _instructions(row),
                )
                task = CallTask(
                    org_id=ex.org_id,
                    idempotency_key=row.idempotency_key,
                    customer_provider_id=row.customer_provider_id,
                    customer_name=draft.customer_name,
                    phone=draft.phone,
                    invoice_provider_id=row.invoice_provider_id,
                    amount=draft.amount,
                    currency=draft.currency,
                    details=draft.details,
                    status="open",
                    created_at=now,
                )
                session.add(task)
                session.flush()
                record(
                    session,
                    at=now,
                    event="task.created",
                    org_id=ex.org_id,
                    subject_type="call_task",
                    subject_id=str(task.id),
                    action=row.idempotency_key,
                    customer=row.customer_provider_id,
                    phone=task.phone,
                    amount=str(task.amount),
                    currency=task.currency,
                )
            task_id = task.id
        return {"remote_id": f"task:{task_id}", "result": {"detail": f"call task {task_id}"}}

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        from ...review.render import stored_records

        if row.invoice_provider_id is None or row.customer_provider_id is None:
            out.problem = "a call action without an invoice: the executor would fail"
            return
        found = stored_records(pv.store, pv.org_id, [row.invoice_provider_id])
        if not found:
            return  # the generic check says the invoice is closed
        with pv.store.sessions() as session:
            draft = draft_task(
                session,
                pv.org_id,
                row.customer_provider_id,
                found[row.invoice_provider_id],
                pv.clock.now().date(),
                _instructions(row),
            )
        out.detail = describe_draft(draft.customer_name, draft.phone, draft.details)


def describe_draft(name: str | None, phone: str | None, details: dict[str, Any]) -> str:
    lines = [f"call task: {name or '?'}, phone {phone or '(none on record)'}"]
    for cur, amount in (details.get("overdue") or {}).items():
        lines.append(f"overdue: {amount} {cur}")
    for i in details.get("invoices") or []:
        lines.append(
            f"  invoice {i['number'] or i['provider_id']} due {i['due_date']}: "
            f"{i['balance']} {i['currency']} ({i['days_overdue']} days overdue)"
        )
    if details.get("instructions"):
        lines.append(f"instructions: {details['instructions']}")
    lines.append(f"history: {len(details.get('history') or [])} event(s) so far")
    return "\n".join(lines)


HANDLER = register(CallHandler())
