"""What the person who called reports (``syncd tasks done``), and how it feeds back into
dunning through the existing holds (``syncd.dunning.holds``):

* ``promise``: the customer promised to pay by ``until``: every open invoice on the task is
  paused until then (after that date dunning resumes where it stood);
* ``dispute``: the customer disputes the debt: a dispute hold stops dunning of the task's
  open invoices until someone resolves it (``syncd resume``);
* ``paid``: recorded only; the next sync confirms the payment (or not);
* ``no-answer``: recorded only; the policy's next step proceeds.

Everything happens in the caller's transaction: a refused outcome changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import InvoiceStatus

from ..dunning.holds import place_hold
from ..store.audit import record
from ..store.models import CallTask, Invoice

Outcome = Literal["paid", "promise", "dispute", "no-answer"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class TaskError(ValueError):
    """A user's mistake about a task (unknown id, done twice, a bad date)."""


@dataclass(frozen=True)
class Report:
    outcome: str
    until: date | None
    note: str | None
    actor: str


def find_task(session: Session, task_id: int, org_id: int | None = None) -> CallTask:
    task = session.get(CallTask, task_id)
    if task is None or (org_id is not None and task.org_id != org_id):
        raise TaskError(f"no call task {task_id}" + (" in this org" if org_id else ""))
    return task


def _check(task: CallTask, report: Report, today: date) -> None:
    if task.status == "done":
        assert task.done_at is not None
        raise TaskError(
            f"call task {task.id} is already done ({task.outcome}, recorded "
            f"{task.done_at.date().isoformat()} by {task.done_by}); nothing changed"
        )
    if report.outcome not in OUTCOMES:
        raise TaskError(f"--outcome must be one of {', '.join(OUTCOMES)}")
    if report.outcome == "promise":
        if report.until is None:
            raise TaskError("--outcome promise needs --until DATE: the day payment was promised")
        if report.until <= today:
            raise TaskError(
                f"--until {report.until.isoformat()} is not after today ({today.isoformat()}): "
                "a promise pauses dunning until a future date"
            )
    elif report.until is not None:
        raise TaskError("--until goes only with --outcome promise")


def _open_invoices(session: Session, task: CallTask) -> list[str]:
    listed = [str(i["provider_id"]) for i in task.details.get("invoices") or []]
    rows = session.scalars(
        select(Invoice.provider_id).where(
            Invoice.org_id == task.org_id,
            Invoice.provider_id.in_(listed),
            Invoice.status == InvoiceStatus.OPEN.value,
            Invoice.balance > 0,
        )
    )
    return sorted(rows)


def record_outcome(
    session: Session, task: CallTask, report: Report, *, now: datetime, today: date
) -> list[str]:
    """Close the task with the outcome; returns the invoices a hold was placed on."""
    _check(task, report, today)
    held: list[str] = []
    if report.outcome in ("promise", "dispute"):
        kind: Literal["pause", "dispute"] = "pause" if report.outcome == "promise" else "dispute"
        why = f"call task {task.id}: " + (
            f"promised to pay by {report.until.isoformat()}"
            if report.until is not None
            else "disputed on the phone"
        )
        if report.note:
            why += f" ({report.note})"
        for invoice_id in _open_invoices(session, task):
            place_hold(
                session,
                org_id=task.org_id,
                scope="invoice",
                provider_id=invoice_id,
                kind=kind,
                until=report.until,
                reason=why,
                actor=report.actor,
                now=now,
                today=today,
            )
            held.append(invoice_id)
    task.status, task.outcome = "done", report.outcome
    task.until, task.note = report.until, report.note
    task.done_at, task.done_by = now, report.actor
    record(
        session,
        at=now,
        event="task.done",
        actor=report.actor,
        org_id=task.org_id,
        subject_type="call_task",
        subject_id=str(task.id),
        outcome=report.outcome,
        until=report.until.isoformat() if report.until else None,
        note=report.note,
        holds=held,
    )
    return held
