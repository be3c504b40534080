"""Agreeing and cancelling payment plans (``syncd payment-plan create / cancel``).

Everything is checked before anything is written, and everything is written in one
transaction: the plan with its invoices and schedule, the holds that stop ordinary dunning,
the outbox actions that put the agreement in writing (the confirmation email with the
schedule as a PDF, a note on every covered invoice) and the audit entry. The confirmation
waits for approval unless the org exempts it (``review_exempt``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies.money import minor_unit
from policies.plans import PaymentPlanSettings, PlanError, parse_every, schedule

from ..config.loader import LoadedConfig
from ..store.audit import record
from ..store.models import (
    Customer,
    Invoice,
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentPlanInvoice,
)
from ..store.queries import money_text, round_money
from .common import (
    LadderError,
    find_invoice,
    held_by_agreement,
    hold_actor,
    local_day,
    place_hold,
    queue_action,
)
from .ending import cancel_agreement, get_agreement
from .waiver import open_covered, waive_interest


def plan_settings(config: LoadedConfig, org_name: str) -> PaymentPlanSettings:
    policy = config.policies.get(config.settings.org(org_name).policy)
    return policy.payment_plan if policy is not None else PaymentPlanSettings()


def find_customer(session: Session, org_id: int, ref: str) -> Customer:
    rows = list(
        session.scalars(
            select(Customer).where(Customer.org_id == org_id, Customer.provider_id == ref)
        )
    ) or list(
        session.scalars(select(Customer).where(Customer.org_id == org_id, Customer.name == ref))
    )
    if not rows:
        raise LadderError(f"no customer {ref!r} in this org's store (give its id or exact name)")
    if len(rows) > 1:
        raise LadderError(f"customer name {ref!r} is ambiguous; give the customer's id")
    return rows[0]


def _covered(session: Session, org_id: int, customer: Customer, refs: list[str]) -> list[Invoice]:
    if not refs:
        raise LadderError("name at least one --invoice")
    invoices: list[Invoice] = []
    for ref in refs:
        inv = find_invoice(session, org_id, ref)
        label = inv.number or inv.provider_id
        if inv.customer_provider_id != customer.provider_id:
            owner = session.scalar(
                select(Customer.name).where(
                    Customer.org_id == org_id, Customer.provider_id == inv.customer_provider_id
                )
            )
            raise LadderError(
                f"invoice {label} belongs to {owner or inv.customer_provider_id}, "
                f"not to {customer.name or customer.provider_id}"
            )
        if inv.status != "open" or inv.balance <= 0:
            raise LadderError(f"invoice {label} is {inv.status} with nothing left to pay")
        holder = held_by_agreement(session, org_id, inv.provider_id)
        if holder:
            raise LadderError(f"invoice {label} is already under {holder.removeprefix('syncd:')}")
        if inv.provider_id in {i.provider_id for i in invoices}:
            raise LadderError(f"invoice {label} is named twice")
        invoices.append(inv)
    currencies = sorted({inv.currency for inv in invoices})
    if len(currencies) > 1:
        raise LadderError(f"a plan covers invoices in one currency, not {', '.join(currencies)}")
    return invoices


def _deposit(text: str | None, currency: str) -> Decimal | None:
    if text is None:
        return None
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise LadderError(f"--deposit expects an amount such as 250.00, not {text!r}") from None
    if not amount.is_finite() or amount != amount.quantize(minor_unit(currency)):
        raise LadderError(f"--deposit {text} is not an amount in whole {currency} minor units")
    return amount


def create_plan(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    *,
    customer_ref: str,
    invoice_refs: list[str],
    instalments: int,
    every: str,
    first: date,
    deposit: str | None,
    actor: str,
    now: datetime,
) -> PaymentPlan:
    tz = config.settings.org(org_name).timezone
    customer = find_customer(session, org_id, customer_ref)
    invoices = _covered(session, org_id, customer, invoice_refs)
    currency = invoices[0].currency
    balance = sum((inv.balance for inv in invoices), Decimal(0))
    if first < local_day(now, tz):
        raise LadderError(f"--first {first.isoformat()} is in the past")
    try:
        cadence = parse_every(every)
        rows = schedule(
            balance,
            currency,
            count=instalments,
            every=cadence,
            first=first,
            deposit=_deposit(deposit, currency),
        )
    except PlanError as exc:
        raise LadderError(str(exc)) from None
    plan = PaymentPlan(
        org_id=org_id,
        customer_provider_id=customer.provider_id,
        currency=currency,
        amount=balance,
        every=str(cadence),
        status="active",
        created_at=now,
        actor=actor,
        invoices=[
            PaymentPlanInvoice(
                invoice_provider_id=inv.provider_id, number=inv.number, balance=inv.balance
            )
            for inv in invoices
        ],
        instalments=[
            PaymentPlanInstalment(number=i.number, due_date=i.due, amount=i.amount, paid=Decimal(0))
            for i in rows
        ],
    )
    session.add(plan)
    session.flush()
    _put_in_writing(session, config, org_name, org_id, plan, invoices, now)
    return plan


def _put_in_writing(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    plan: PaymentPlan,
    invoices: list[Invoice],
    now: datetime,
) -> None:
    actor = hold_actor("plan", plan.id)
    summary = plan_summary(plan)
    for inv in invoices:
        place_hold(session, org_id, inv, actor, f"payment plan {plan.id}", now)
        queue_action(
            session,
            config,
            org_name,
            org_id=org_id,
            key=f"{org_name}:plan/{plan.id}:note:{inv.provider_id}",
            kind="note",
            payload={"text": summary, "reason": f"payment plan {plan.id} agreed"},
            now=now,
            invoice_id=inv.provider_id,
            customer_id=plan.customer_provider_id,
            reason=f"payment plan {plan.id} agreed",
        )
    settings = plan_settings(config, org_name)
    queue_action(
        session,
        config,
        org_name,
        org_id=org_id,
        key=f"{org_name}:plan/{plan.id}:confirmation",
        kind="plan_confirmation",
        payload={
            "plan_id": plan.id,
            "template": settings.confirmation_template,
            "grace_days": settings.grace_days,
        },
        now=now,
        customer_id=plan.customer_provider_id,
        reason=f"payment plan {plan.id} agreed: confirm it in writing",
        email=True,
    )
    record(
        session,
        at=now,
        event="plan.created",
        actor=plan.actor,
        org_id=org_id,
        subject_type="customer",
        subject_id=plan.customer_provider_id,
        plan_id=plan.id,
        amount=plan.amount,
        currency=plan.currency,
        invoices=[i.provider_id for i in invoices],
        instalments=[
            {"number": i.number, "due": i.due_date, "amount": i.amount} for i in plan.instalments
        ],
    )


def plan_summary(plan: PaymentPlan) -> str:
    """One line for the invoice's note (Xero notes hold 250 characters)."""
    unit = plan.currency
    parts = [f"{round_money(i.amount, unit)} on {i.due_date.isoformat()}" for i in plan.instalments]
    shown = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
    return (
        f"Payment plan {plan.id} agreed for {money_text(plan.amount, unit)} in "
        f"{len(parts)} payment(s): {shown}"
    )


def get_plan(session: Session, org_id: int, plan_id: int) -> PaymentPlan:
    return get_agreement(session, PaymentPlan, org_id, plan_id)


def cancel_plan(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    plan_id: int,
    *,
    reason: str | None,
    actor: str,
    now: datetime,
) -> PaymentPlan:
    """End a plan by hand; dunning resumes where it stood. With ``interest_during_plan =
    false`` the interest of the days it was agreed for (agreement day to today, both
    included) is waived as for a broken plan: the business agreed to wait those days, and
    a person ending the plan does not take that back (``syncd.plans.waiver``)."""
    plan = cancel_agreement(
        session, PaymentPlan, org_id, plan_id, reason=reason, actor=actor, now=now
    )
    if not plan_settings(config, org_name).interest_during_plan:
        tz = config.settings.org(org_name).timezone
        for invoice in open_covered(session, plan):
            waive_interest(session, invoice, plan, tz, local_day(now, tz), now, keep=True)
    return plan
