"""Handing a customer's debt to an agency or a lawyer.

Everything is checked before anything changes: the customer exists, has overdue invoices
and is not already handed off, and the archive can be written. Then one transaction
records the hand-off, places the hand-off hold (no automatic action for the customer from
now on: the engine treats it as a dispute), closes the customer's queued actions as
skipped, queues a referral note per invoice for the provider (held for review, like every
write a hand-off causes) and writes the audit entry. If that transaction fails, the
archive is removed again.

A hand-off ends with :func:`release_handoff` (the agency returned the case, or the debt was
settled with them): its hold is released, referral notes nobody approved yet are skipped, and
dunning continues from where it stood, the time with the agency off its clock as for any hold.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..dunning.holds import release_holds
from ..store import Store
from ..store.audit import record
from ..store.ladder import Handoff
from ..store.models import Hold, Invoice, OutboxAction, OutboxStatus
from ..store.queries import round_money
from .casefile import build_case_file
from .customers import CustomerNotFound, resolve_customer
from .render import LetterRenderer
from .statement import StatementError, build_statement, payments_for

NOTE_REVIEW = "a hand-off's referral note waits for approval before it reaches the provider"


class HandoffError(ValueError):
    """The hand-off cannot be made as asked (the message says why); nothing changed."""


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    org_id: int
    org_name: str
    customer: str
    agency: str
    out: Path | None
    folder: Path
    actor: str
    now: datetime
    today: date


def active_handoff(session: Session, org_id: int, customer_id: str) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(
            Handoff.org_id == org_id,
            Handoff.customer_provider_id == customer_id,
            Handoff.released_at.is_(None),
        )
    )


def _archive_path(req: HandoffRequest, customer_id: str) -> Path:
    if req.out is not None:
        return req.out
    agency = re.sub(r"[^A-Za-z0-9._-]+", "-", req.agency).strip("-")[:40] or "agency"
    return (
        req.folder
        / req.org_name
        / re.sub(r"[^A-Za-z0-9._-]+", "-", customer_id)
        / f"handoff-{req.today.isoformat()}-{agency}.zip"
    )


def create_handoff(store: Store, req: HandoffRequest, renderer: LetterRenderer) -> Handoff:
    agency = req.agency.strip()
    if not agency:
        raise HandoffError(
            "--to needs the agency's or lawyer's name, e.g. --to \"Acme Recoveries\""
        )
    with store.sessions() as session:
        try:
            customer = resolve_customer(session, req.org_id, req.customer)
        except CustomerNotFound as exc:
            raise HandoffError(str(exc)) from None
        current = active_handoff(session, req.org_id, customer.provider_id)
        if current is not None:
            raise HandoffError(
                f"customer {customer.name!r} was already handed off to {current.agency} on "
                f"{current.created_at.date().isoformat()} (hand-off {current.id})"
            )
        try:
            statement = build_statement(
                session, req.org_id, customer.provider_id, req.today, org_name=req.org_name
            )
        except StatementError as exc:
            raise HandoffError(f"{exc}: nothing to hand off") from None
        path = _archive_path(req, customer.provider_id)
        if path.exists():
            raise HandoffError(f"{path} already exists; choose another --out")
        data = build_case_file(
            session,
            req.org_id,
            customer,
            statement,
            agency=agency,
            now=req.now,
            renderer=renderer,
        )
        known = [
            p.provider_id
            for p in payments_for(
                session, req.org_id, {i.provider_id: i.number for i in statement.invoices}
            )
        ]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        raise HandoffError(f"cannot write {path}: {exc}") from None
    try:
        with store.sessions.begin() as session:
            return _record(session, req, customer.provider_id, agency, statement, known, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _record(
    session: Session,
    req: HandoffRequest,
    customer_id: str,
    agency: str,
    statement: Any,
    known: list[str],
    path: Path,
) -> Handoff:
    if active_handoff(session, req.org_id, customer_id) is not None:
        raise HandoffError(f"customer {customer_id} was handed off meanwhile")
    handoff = Handoff(
        org_id=req.org_id,
        customer_provider_id=customer_id,
        agency=agency,
        invoice_ids=[i.provider_id for i in statement.invoices],
        currency=statement.currency,
        balance=statement.total,
        known_payments=known,
        archive_path=str(path),
        actor=req.actor,
        created_at=req.now,
    )
    session.add(handoff)
    session.add(
        Hold(
            org_id=req.org_id,
            scope="customer",
            provider_id=customer_id,
            kind="handoff",
            until=None,
            reason=f"handed off to {agency}",
            actor=req.actor,
            created_at=req.now,
        )
    )
    session.flush()
    skipped = _skip_queued(session, req, customer_id, agency)
    for inv in statement.invoices:
        _queue_note(session, req, handoff, inv.provider_id, inv.number, agency)
    record(
        session,
        at=req.now,
        event="handoff.created",
        actor=req.actor,
        org_id=req.org_id,
        subject_type="customer",
        subject_id=customer_id,
        handoff_id=handoff.id,
        agency=agency,
        invoices=[i.number for i in statement.invoices],
        balance=str(statement.total),
        currency=statement.currency,
        archive=str(path),
        skipped_actions=skipped,
    )
    return handoff


def _skip_queued(session: Session, req: HandoffRequest, customer_id: str, agency: str) -> int:
    rows = session.scalars(
        select(OutboxAction).where(
            OutboxAction.org_id == req.org_id,
            OutboxAction.customer_provider_id == customer_id,
            OutboxAction.status.in_(
                [OutboxStatus.PENDING.value, OutboxStatus.AWAITING_REVIEW.value]
            ),
        )
    ).all()
    for row in rows:
        row.status = OutboxStatus.SKIPPED.value
        row.last_error = f"customer handed off to {agency}"
        row.updated_at = req.now
        record(
            session,
            at=req.now,
            event="action.skipped",
            actor=req.actor,
            org_id=req.org_id,
            subject_type="action",
            subject_id=row.idempotency_key,
            status="skipped",
            last_error=row.last_error,
        )
    return len(rows)


def _queue_note(
    session: Session,
    req: HandoffRequest,
    handoff: Handoff,
    invoice_id: str,
    number: str,
    agency: str,
) -> None:
    key = f"{req.org_name}:handoff/{handoff.id}:{invoice_id}:note"
    text = (
        f"Referred to {agency} for collection on {req.today.isoformat()} (syncd hand-off "
        f"{handoff.id}); syncd sends no further reminders for this customer."
    )
    session.add(
        OutboxAction(
            org_id=req.org_id,
            idempotency_key=key,
            kind="note",
            invoice_provider_id=invoice_id,
            customer_provider_id=handoff.customer_provider_id,
            payload={
                "key": key,
                "action": "note",
                "customer": handoff.customer_provider_id,
                "invoice": {"provider_id": invoice_id, "number": number},
                "invoices": [],
                "step": "handoff",
                "text": text,
                "reason": f"hand-off to {agency}",
            },
            status=OutboxStatus.AWAITING_REVIEW.value,
            review_reason=NOTE_REVIEW,
            attempts=0,
            scheduled_for=req.now,
            created_at=req.now,
            updated_at=req.now,
        )
    )
    record(
        session,
        at=req.now,
        event="action.planned",
        actor=req.actor,
        org_id=req.org_id,
        subject_type="action",
        subject_id=key,
        reason=f"hand-off to {agency}",
        review=NOTE_REVIEW,
    )


@dataclass(frozen=True, slots=True)
class Released:
    handoff: int
    customer: str
    agency: str
    skipped_notes: int


def release_handoff(
    store: Store, org_id: int, customer: str, *, actor: str, reason: str, now: datetime
) -> Released:
    """End the customer's hand-off in one transaction (nothing changes if it is refused)."""
    if not reason.strip():
        raise HandoffError('--reason is required, e.g. --reason "agency returned the case"')
    with store.sessions.begin() as session:
        try:
            found = resolve_customer(session, org_id, customer)
        except CustomerNotFound as exc:
            raise HandoffError(str(exc)) from None
        handoff = active_handoff(session, org_id, found.provider_id)
        if handoff is None:
            raise HandoffError(f"customer {found.name!r} is not handed off: nothing to release")
        handoff.released_at = now
        release_holds(
            session,
            org_id=org_id,
            scope="customer",
            provider_id=found.provider_id,
            actor=actor,
            reason=reason,
            now=now,
            kinds=("handoff",),
        )
        notes = session.scalars(
            select(OutboxAction).where(
                OutboxAction.org_id == org_id,
                OutboxAction.idempotency_key.like(f"%:handoff/{handoff.id}:%"),
                OutboxAction.status.in_(
                    [OutboxStatus.PENDING.value, OutboxStatus.AWAITING_REVIEW.value]
                ),
            )
        ).all()
        for note in notes:
            note.status, note.updated_at = OutboxStatus.SKIPPED.value, now
            note.last_error = "the hand-off was released before this note was approved"
        record(
            session,
            at=now,
            event="handoff.released",
            actor=actor,
            org_id=org_id,
            subject_type="customer",
            subject_id=found.provider_id,
            handoff_id=handoff.id,
            agency=handoff.agency,
            reason=reason,
            skipped_notes=len(notes),
        )
        return Released(handoff.id, found.provider_id, handoff.agency, len(notes))


def handoff_status(session: Session, org_id: int) -> list[dict[str, Any]]:
    """Each hand-off of the org still standing, with the payments that arrived since."""
    out: list[dict[str, Any]] = []
    for h in session.scalars(
        select(Handoff)
        .where(Handoff.org_id == org_id, Handoff.released_at.is_(None))
        .order_by(Handoff.id)
    ):
        invoices = {
            i.provider_id: i
            for i in session.scalars(
                select(Invoice).where(
                    Invoice.org_id == org_id, Invoice.provider_id.in_(h.invoice_ids or [""])
                )
            )
        }
        numbers = {pid: inv.number or pid for pid, inv in invoices.items()}
        news = [
            p
            for p in payments_for(session, org_id, numbers)
            if p.provider_id not in set(h.known_payments)
        ]
        balance = sum((inv.balance for inv in invoices.values()), Decimal(0))
        out.append(
            {
                "handoff": h.id,
                "customer": h.customer_provider_id,
                "agency": h.agency,
                "since": h.created_at.isoformat(),
                "currency": h.currency,
                "balance_at_handoff": str(round_money(h.balance, h.currency)),
                "balance_now": str(round_money(balance, h.currency)),
                "payments_since": [
                    {
                        "payment": p.provider_id,
                        "kind": p.kind,
                        "date": p.date.isoformat() if p.date else None,
                        "invoice": p.invoice_number,
                        "amount": str(round_money(p.amount, h.currency)),
                    }
                    for p in news
                ],
            }
        )
    return out
