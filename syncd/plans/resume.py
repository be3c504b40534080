"""``syncd resume --invoice`` on an invoice an ``unconfirmed`` plan still holds.

An unconfirmed plan (its confirmation was skipped, failed or never queued) keeps its
invoices on hold until a person decides. Resuming such an invoice is that decision for the
invoice: dunning resumes where it stood, exactly as ``syncd payment-plan cancel`` would have
it. So it ends the same way: with ``interest_during_plan = false`` the plan's own days
(agreement day to the resuming day) are waived on that invoice, because the business held
it all that time with the customer believing a plan was agreed, and resuming does not take
that back. Once the plan holds nothing more it is ``cancelled`` (audit ``plan.cancelled``,
the resume named in its reason), so a later ``payment-plan cancel`` cannot widen the
waiver past the day the invoice was resumed. An invoice of an unconfirmed plan that still
holds others is released alone: the others stay on hold for the person to decide.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config.loader import LoadedConfig
from ..store.audit import record
from ..store.models import Hold, PaymentPlan
from .agree import plan_settings
from .common import hold_actor, local_day
from .ending import end_agreement
from .waiver import open_covered, waive_interest


def resume_unconfirmed(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    invoice_id: str,
    *,
    actor: str,
    reason: str | None,
    now: datetime,
) -> list[str]:
    """Release the holds unconfirmed plans keep on ``invoice_id`` as cancelling them would;
    returns one line per plan for the user. Other holds are the caller's."""
    holds = session.scalars(
        select(Hold).where(
            Hold.org_id == org_id,
            Hold.scope == "invoice",
            Hold.provider_id == invoice_id,
            Hold.released_at.is_(None),
            Hold.actor.like("syncd:plan/%"),
        )
    ).all()
    told: list[str] = []
    for hold in holds:
        plan = session.get(PaymentPlan, int(hold.actor.removeprefix("syncd:plan/")))
        if plan is None or plan.org_id != org_id or plan.status != "unconfirmed":
            continue
        _waive(session, config, org_name, plan, invoice_id, now)
        why = f"resumed by hand (syncd resume --invoice {invoice_id})" + (
            f": {reason}" if reason else ""
        )
        if _others_held(session, plan, invoice_id):
            _release(session, hold, actor, why, now)
            told.append(
                f"released from unconfirmed payment plan {plan.id}; its other invoices stay "
                f"on hold (syncd payment-plan cancel {plan.id} releases them)"
            )
        else:
            end_agreement(session, plan, "cancelled", why, actor=actor, now=now)
            told.append(f"unconfirmed payment plan {plan.id} cancelled (it held nothing else)")
    return told


def _waive(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    plan: PaymentPlan,
    invoice_id: str,
    now: datetime,
) -> None:
    if plan_settings(config, org_name).interest_during_plan:
        return
    tz = config.settings.org(org_name).timezone
    for invoice in open_covered(session, plan):
        if invoice.provider_id == invoice_id:
            waive_interest(session, invoice, plan, tz, local_day(now, tz), now)


def _others_held(session: Session, plan: PaymentPlan, invoice_id: str) -> bool:
    found = session.scalar(
        select(Hold.id).where(
            Hold.org_id == plan.org_id,
            Hold.actor == hold_actor("plan", plan.id),
            Hold.released_at.is_(None),
            Hold.provider_id != invoice_id,
        )
    )
    return found is not None


def _release(session: Session, hold: Hold, actor: str, reason: str, now: datetime) -> None:
    hold.released_at = now
    record(
        session,
        at=now,
        event="hold.resume",
        actor=actor,
        org_id=hold.org_id,
        subject_type="invoice",
        subject_id=hold.provider_id,
        hold_id=hold.id,
        kind=hold.kind,
        reason=reason,
    )
