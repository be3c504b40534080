"""Following plans and settlements on every cycle, after the sync and before planning.

For each active plan: payments synced from the provider are allocated to its instalments in
date order (``policies.plans.allocate``); a plan whose instalment is unpaid past the grace
days breaks and the policy's ``on_break`` decides what follows (``resume``: the holds are
released and dunning picks up where it stood; ``escalate``: an escalation of each invoice
is queued too); a plan paid in full completes; a kept plan gets each instalment's reminder.

For each pending settlement: payments reaching the agreed amount by the date queue the credit
note for the rest (exactly once, under the settlement's key); when the date passes first the
offer lapses and dunning resumes. A met settlement closes once its credit action is done.

Everything one cycle decides commits in one transaction with its audit entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies.plans import (
    Instalment,
    PlanVerdict,
    Progress,
    SettlementVerdict,
    allocate,
    pay_by,
    reminder_due,
    settlement_verdict,
    standing,
)

from ..config.loader import LoadedConfig
from ..store.models import Invoice, OutboxAction, OutboxStatus, PaymentPlan, Settlement
from ..store.queries import money_text, round_money
from .addressing import release_plan_emails
from .agree import plan_settings
from .common import local_day, payments_towards, queue_action
from .ending import end_agreement
from .waiver import open_covered, waive_interest

#: No instalment reminder reaches the customer within this long of the confirmation: by the
#: calendar alone, a confirmation handed over at 23:50 could be followed by a reminder in the
#: first cycle after midnight. Not a full day: with the default daily schedule (09:00) the
#: next day's cycle starts seconds *less* than 24 hours after a confirmation handed over
#: during the previous one, and would lose that day's "due today". What falls due meanwhile
#: is queued by the first cycle after it if it still holds that day
#: (``policies.plans.reminder_due``): a "coming up" before the due day, a "due today" on it,
#: a "missed" while the plan is kept; never about a paid instalment.
QUIET_AFTER_CONFIRMATION = timedelta(hours=20)


def still_relevant(kind: str, due: date, met_on: date | None, today: date) -> bool:
    """Whether a reminder of ``kind`` about an instalment due on ``due`` still holds on
    ``today``: none once it is paid, no "coming up" from the due day on, and no "due today"
    on any other day. ``policies.plans.reminder_due`` already answers so on the day it is
    asked; this is the re-check for the day the reminder is sent, which may be later (held
    for review or for an address, or queued before a weekend without cycles)."""
    if met_on is not None:
        return False
    if kind == "before":
        return today < due
    if kind == "due":
        return today == due
    return True


@dataclass
class FollowReport:
    plans_kept: int = 0
    plans_broken: int = 0
    plans_completed: int = 0
    plans_awaiting_confirmation: int = 0
    plans_unconfirmed: int = 0
    #: Plan emails held for a missing address that a sync has since brought in.
    emails_released: int = 0
    reminders: int = 0
    settlements_met: int = 0
    settlements_lapsed: int = 0
    settlements_closed: int = 0


def follow_up(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, now: datetime
) -> FollowReport:
    report = FollowReport()
    report.emails_released = release_plan_emails(session, config, org_name, org_id, now)
    today = local_day(now, config.settings.org(org_name).timezone)
    plans = session.scalars(
        select(PaymentPlan).where(PaymentPlan.org_id == org_id, PaymentPlan.status == "active")
    ).all()
    for plan in plans:
        _follow_plan(session, config, org_name, plan, today, now, report)
    pending = session.scalars(
        select(Settlement).where(
            Settlement.org_id == org_id, Settlement.status.in_(("pending", "met"))
        )
    ).all()
    for settlement in pending:
        _follow_settlement(session, config, org_name, settlement, today, now, report)
    return report


def _follow_plan(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    plan: PaymentPlan,
    today: date,
    now: datetime,
    report: FollowReport,
) -> None:
    settings = plan_settings(config, org_name)
    tz = config.settings.org(org_name).timezone
    invoice_ids = [i.invoice_provider_id for i in plan.invoices]
    payments = payments_towards(session, plan.org_id, invoice_ids, plan.created_at, tz)
    rows = {i.number: i for i in plan.instalments}
    progress = allocate(
        [
            Instalment(i.number, i.due_date, round_money(i.amount, plan.currency))
            for i in plan.instalments
        ],
        payments,
    )
    for p in progress:
        row = rows[p.instalment.number]
        row.paid, row.met_on = p.paid, p.met_on
    confirmation, sent_at = _confirmation(session, org_name, plan)
    told_on = local_day(sent_at, tz) if sent_at is not None else None
    verdict = standing(progress, today, settings.grace_days, told_on)
    if verdict.verdict is PlanVerdict.COMPLETED:
        end_agreement(session, plan, "completed", verdict.reason, actor="syncd", now=now)
        report.plans_completed += 1
        return
    if confirmation != OutboxStatus.DONE.value:
        _unconfirmed(session, plan, confirmation, now, report)
        return  # no break and no reminder about a plan the customer was never sent
    if verdict.verdict is PlanVerdict.BROKEN:
        _break(session, config, org_name, plan, verdict.reason, today, now)
        report.plans_broken += 1
        return
    report.plans_kept += 1
    if sent_at is not None and now - sent_at < QUIET_AFTER_CONFIRMATION:
        return  # the confirmation is the customer's news about the plan for now
    _queue_reminders(session, config, org_name, plan, progress, (today, told_on), now, report)


def _queue_reminders(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    plan: PaymentPlan,
    progress: list[Progress],
    days: tuple[date, date | None],
    now: datetime,
    report: FollowReport,
) -> None:
    """Each instalment's reminder due by ``days`` (today, the day the customer was sent
    the plan); the "pay it by" date it states is the one ``standing`` holds them to."""
    settings = plan_settings(config, org_name)
    today, told_on = days
    for p in progress:
        kind = reminder_due(p, today, settings, told_on)
        if kind is None:
            continue
        n = p.instalment.number
        deadline = pay_by(p.instalment.due, settings.grace_days, told_on)
        report.reminders += queue_action(
            session,
            config,
            org_name,
            org_id=plan.org_id,
            key=f"{org_name}:plan/{plan.id}/{n}:{kind}",
            kind="plan_reminder",
            payload={
                "plan_id": plan.id,
                "instalment": n,
                "reminder": kind,
                "template": settings.reminder_template,
                "grace_days": settings.grace_days,
                "deadline": deadline.isoformat(),
            },
            now=now,
            customer_id=plan.customer_provider_id,
            reason=f"payment plan {plan.id}, instalment {n}: {kind} reminder",
            email=True,
        )


def _confirmation(
    session: Session, org_name: str, plan: PaymentPlan
) -> tuple[str | None, datetime | None]:
    """The status of the plan's confirmation email (None: none was ever queued) and, once
    it went out, when it was handed to the mail server."""
    row = session.execute(
        select(OutboxAction.status, OutboxAction.handed_at, OutboxAction.updated_at).where(
            OutboxAction.org_id == plan.org_id,
            OutboxAction.idempotency_key == f"{org_name}:plan/{plan.id}:confirmation",
        )
    ).first()
    if row is None:
        return None, None
    sent = row.handed_at or row.updated_at
    return row.status, sent if row.status == OutboxStatus.DONE else None


#: Confirmation statuses from which the email will still go out by itself or by approval.
_ON_ITS_WAY = frozenset(
    {OutboxStatus.PENDING, OutboxStatus.IN_FLIGHT, OutboxStatus.AWAITING_REVIEW}
)


def _unconfirmed(
    session: Session,
    plan: PaymentPlan,
    confirmation: str | None,
    now: datetime,
    report: FollowReport,
) -> None:
    """A plan the customer has not had in writing is not yet in force: it neither breaks nor
    reminds. While its confirmation is on its way it waits; once the confirmation can no
    longer go out (skipped by a reviewer, failed, never queued) the plan ends ``unconfirmed``
    with its invoices kept on hold, for a person to decide: cancel it (dunning resumes) and
    agree it again, or resume the invoices."""
    if confirmation in _ON_ITS_WAY:
        report.plans_awaiting_confirmation += 1
        return
    how = "was never queued" if confirmation is None else f"was {confirmation}"
    reason = (
        f"the confirmation email {how}: the customer was never sent this plan, so it is not "
        f"in force; its invoices stay on hold until someone decides (syncd payment-plan "
        f"cancel {plan.id}, then agree it again if it stands)"
    )
    end_agreement(session, plan, "unconfirmed", reason, actor="syncd", now=now, release=False)
    report.plans_unconfirmed += 1


def _break(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    plan: PaymentPlan,
    reason: str,
    today: date,
    now: datetime,
) -> None:
    settings = plan_settings(config, org_name)
    tz = config.settings.org(org_name).timezone
    end_agreement(
        session, plan, "broken", reason, actor="syncd", now=now, on_break=settings.on_break
    )
    for invoice in open_covered(session, plan):
        if not settings.interest_during_plan:
            waive_interest(session, invoice, plan, tz, today, now)
        queue_action(
            session,
            config,
            org_name,
            org_id=plan.org_id,
            key=f"{org_name}:plan/{plan.id}:broken-note:{invoice.provider_id}",
            kind="note",
            payload={"text": f"Payment plan {plan.id} broken: {reason}", "reason": reason},
            now=now,
            invoice_id=invoice.provider_id,
            customer_id=plan.customer_provider_id,
            reason=f"payment plan {plan.id} broken",
        )
        if settings.on_break == "escalate":
            queue_action(
                session,
                config,
                org_name,
                org_id=plan.org_id,
                key=f"{org_name}:plan/{plan.id}:escalate:{invoice.provider_id}",
                kind="escalate",
                payload={
                    "level": "letter",
                    "reason": f"payment plan {plan.id} broken: {reason}",
                    "invoice": {"provider_id": invoice.provider_id, "number": invoice.number},
                },
                now=now,
                invoice_id=invoice.provider_id,
                customer_id=plan.customer_provider_id,
                reason=f"payment plan {plan.id} broken; the policy escalates",
            )


def _follow_settlement(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    settlement: Settlement,
    today: date,
    now: datetime,
    report: FollowReport,
) -> None:
    if settlement.status == "met":
        _close_if_credited(session, settlement, now, report)
        return
    tz = config.settings.org(org_name).timezone
    payments = payments_towards(
        session, settlement.org_id, [settlement.invoice_provider_id], settlement.created_at, tz
    )
    verdict, met_on = settlement_verdict(
        settlement.agreed_amount, payments, settlement.pay_by, today
    )
    if verdict is SettlementVerdict.LAPSED:
        reason = (
            f"{round_money(settlement.agreed_amount, settlement.currency)} {settlement.currency} "
            "was not paid by "
            f"{settlement.pay_by.isoformat()}: the offer lapsed and dunning resumes"
        )
        end_agreement(session, settlement, "lapsed", reason, actor="syncd", now=now)
        report.settlements_lapsed += 1
        return
    if verdict is SettlementVerdict.PENDING:
        return
    settlement.status, settlement.met_on = "met", met_on
    settlement.credit_key = f"{org_name}:settlement/{settlement.id}:credit"
    reference = (
        f"Settlement {settlement.id}: "
        f"{money_text(settlement.agreed_amount, settlement.currency)} accepted in full settlement"
    )
    queue_action(
        session,
        config,
        org_name,
        org_id=settlement.org_id,
        key=settlement.credit_key,
        kind="credit",
        payload={
            "settlement_id": settlement.id,
            "reference": reference,
            "agreed": str(settlement.agreed_amount),
            "currency": settlement.currency,
            "at_most": str(settlement.balance - settlement.agreed_amount),
            "reason": f"settlement {settlement.id} paid by {met_on}: credit the rest",
        },
        now=now,
        invoice_id=settlement.invoice_provider_id,
        customer_id=settlement.customer_provider_id,
        reason=f"settlement {settlement.id} met on {met_on}: credit the remainder",
    )
    report.settlements_met += 1


def _close_if_credited(
    session: Session, settlement: Settlement, now: datetime, report: FollowReport
) -> None:
    """Closed once the credit is done. A credit that failed or was skipped by a reviewer
    leaves the invoice on hold: the customer paid what was agreed, and ordinary dunning of the
    rest would not be what a careful bookkeeper sends; a human resumes it (``syncd resume``)
    or credits it by hand."""
    action = session.scalar(
        select(OutboxAction).where(
            OutboxAction.org_id == settlement.org_id,
            OutboxAction.idempotency_key == settlement.credit_key,
        )
    )
    if action is None or action.status not in ("done", "failed", "skipped"):
        return
    invoice = session.scalar(
        select(Invoice).where(
            Invoice.org_id == settlement.org_id,
            Invoice.provider_id == settlement.invoice_provider_id,
        )
    )
    if action.status == "done" or (invoice is not None and invoice.balance <= 0):
        reason = (
            f"credit note {action.remote_id} closed the remainder"
            if action.status == "done"
            else f"the invoice is {invoice.status if invoice else 'gone'} with nothing left"
        )
        end_agreement(session, settlement, "closed", reason, actor="syncd", now=now)
        report.settlements_closed += 1
        return
    end_agreement(
        session,
        settlement,
        "unclosed",
        f"the credit action {action.status}: {action.last_error}; the invoice stays on hold "
        f"until someone resumes it (syncd resume --invoice {settlement.invoice_provider_id})",
        actor="syncd",
        now=now,
        release=False,
    )
