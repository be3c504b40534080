"""What plans and settlements share: invoice references, the pause holds that stop ordinary
dunning, payments towards invoices, and queueing outbox actions with their review decision.

Plans and settlements stop ordinary dunning the way a promise to pay does: a pause hold on
each invoice, whose ``actor`` names the plan or settlement (``syncd:plan/7``), so that the
days spent under the agreement come off the dunning clock and dunning resumes where it stood
once the agreement ends. The hold is released, never deleted, when it does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from policies.kinds.base import ReviewClass
from policies.kinds.registry import kind as registered_kind

from ..config.loader import LoadedConfig
from ..outbox.queue import enqueue
from ..review.address import unaddressed_customers
from ..review.hold import ESCALATION_KINDS, FEE_KINDS, contacted_customers, review_mode
from ..store.audit import record
from ..store.models import (
    Hold,
    HoldKind,
    Invoice,
    Payment,
    PaymentAllocation,
)


class LadderError(ValueError):
    """A user's mistake with a plan or settlement: the message says what to change."""


def find_invoice(session: Session, org_id: int, ref: str) -> Invoice:
    """An invoice by provider id or by number (a number shared by two invoices is refused)."""
    rows = list(
        session.scalars(
            select(Invoice).where(
                Invoice.org_id == org_id,
                or_(Invoice.provider_id == ref, Invoice.number == ref),
            )
        )
    )
    exact = [r for r in rows if r.provider_id == ref]
    if exact:
        return exact[0]
    if not rows:
        raise LadderError(f"no invoice {ref!r} in this org's store (run `syncd sync`?)")
    if len(rows) > 1:
        ids = ", ".join(r.provider_id for r in rows)
        raise LadderError(f"invoice number {ref!r} is ambiguous (ids {ids}); give the id")
    return rows[0]


def hold_actor(what: str, ident: int) -> str:
    return f"syncd:{what}/{ident}"


def place_hold(
    session: Session, org_id: int, invoice: Invoice, actor: str, reason: str, now: datetime
) -> None:
    hold = Hold(
        org_id=org_id,
        scope="invoice",
        provider_id=invoice.provider_id,
        kind="pause",
        until=None,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    session.add(hold)
    session.flush()
    record(
        session,
        at=now,
        event="hold.pause",
        actor=actor,
        org_id=org_id,
        subject_type="invoice",
        subject_id=invoice.provider_id,
        hold_id=hold.id,
        reason=reason,
    )


def release_holds(session: Session, org_id: int, actor: str, reason: str, now: datetime) -> int:
    rows = session.scalars(
        select(Hold).where(Hold.org_id == org_id, Hold.actor == actor, Hold.released_at.is_(None))
    ).all()
    for row in rows:
        row.released_at = now
        record(
            session,
            at=now,
            event="hold.resume",
            actor=actor,
            org_id=org_id,
            subject_type="invoice",
            subject_id=row.provider_id,
            hold_id=row.id,
            kind=row.kind,
            reason=reason,
        )
    return len(rows)


def held_by_agreement(session: Session, org_id: int, invoice_id: str) -> str | None:
    """The plan or settlement already holding this invoice, if any."""
    return session.scalar(
        select(Hold.actor).where(
            Hold.org_id == org_id,
            Hold.scope == "invoice",
            Hold.provider_id == invoice_id,
            Hold.released_at.is_(None),
            or_(Hold.actor.like("syncd:plan/%"), Hold.actor.like("syncd:settlement/%")),
        )
    )


def payments_towards(
    session: Session, org_id: int, invoice_ids: list[str], since: datetime, tz: str
) -> list[tuple[date, Decimal]]:
    """Customer payments (not credit notes, not deleted) applied to these invoices since the
    agreement at ``since``: (payment date, amount applied to them), oldest first.

    A payment dated on the agreement's own day counts only if the provider recorded it after
    the agreement: one made that morning is already in the balance the agreement covers."""
    day = local_day(since, tz)
    rows = session.execute(
        select(Payment.date, PaymentAllocation.amount)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(
            Payment.org_id == org_id,
            Payment.kind == "payment",
            Payment.deleted.is_(False),
            PaymentAllocation.invoice_provider_id.in_(invoice_ids),
            or_(
                Payment.date > day, and_(Payment.date == day, Payment.provider_updated_at >= since)
            ),
        )
    ).all()
    return sorted(((d, amount) for d, amount in rows if d is not None), key=lambda p: p[0])


def local_day(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def review_reason(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    kind: str,
    *,
    org_id: int,
    customer_id: str | None,
) -> str | None:
    """Why an action of ``kind`` waits for approval (None: it may run by itself), by the
    same precedence as the engine's actions (``syncd.review.hold``): an approval-class kind
    always waits unless the org exempts it, then the org's review mode."""
    org = config.settings.org(org_name)
    if registered_kind(kind).review_class is ReviewClass.APPROVAL and (
        kind not in org.review_exempt
    ):
        return (
            f"a {kind.replace('_', ' ')} always waits for approval "
            f'(unless the org lists it in review_exempt = ["{kind}"])'
        )
    mode = review_mode(config, org_name)
    if mode == "all":
        return 'review = "all": every action waits for approval'
    if mode == "fees-and-escalations" and kind in FEE_KINDS | ESCALATION_KINDS:
        return f'review = "fees-and-escalations": a {kind.replace("_", " ")} waits for approval'
    if (
        mode == "first-contact"
        and customer_id is not None
        and customer_id not in contacted_customers(session, org_id, [customer_id])
    ):
        return (
            'review = "first-contact": syncd has not yet reached this customer '
            "(no email or charge completed)"
        )
    return None


def queue_action(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    *,
    org_id: int,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    invoice_id: str | None = None,
    customer_id: str | None = None,
    reason: str = "",
    email: bool = False,
) -> bool:
    """:func:`enqueue` with the review decision every plan and settlement action takes; an
    ``email`` to a customer syncd has no address for is held for that first (what must be
    fixed before anyone can usefully approve it, see ``syncd.plans.addressing``)."""
    addressless = (
        unaddressed_customers(session, org_id, [customer_id]).get(customer_id)
        if email and customer_id is not None
        else None
    )
    review = addressless or review_reason(
        session, config, org_name, kind, org_id=org_id, customer_id=customer_id
    )
    return enqueue(
        session,
        org_id=org_id,
        key=key,
        kind=kind,
        payload=payload,
        now=now,
        review=review,
        hold_kind=HoldKind.ADDRESS if addressless else None,
        invoice_id=invoice_id,
        customer_id=customer_id,
        reason=reason,
    )
