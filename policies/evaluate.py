"""One invoice in one cycle: is it in active dunning, and if so what does it get.

The gates come first (``gate``): closed invoices, exclusions, holds, stopped dunning,
a closed send day and an onboarding entry not yet due end the evaluation with the
reason. An invoice in active dunning then gets, in ``plan_invoice``: its onboarding
entry email if it was overdue at go-live, the latest due step of its policy (see
``schedule``), its accrued fee periods (``fees``) and, on steps that claim or state it,
statutory interest (``claims``). Every action carries the invoice's review reason, if
any, and its step's review override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from policies.actions import (
    ActionKind,
    EmailItem,
    IdempotencyKey,
    PlannedAction,
    fee_key,
    step_key,
)
from policies.calendar import SendCalendar
from policies.context import InvoiceDecision, OrgContext, Outcome
from policies.fees import FeeClock, FeeOutcome, accrued_fees, as_charges
from policies.grouping import PendingEmail
from policies.interest import rate_gaps
from policies.kinds.base import EscalationLevel, SourcePlan
from policies.kinds.registry import source_kinds
from policies.money import Money
from policies.onboarding import ONBOARDING_STEP, Onboarding, describe_onboarding, onboarding_for
from policies.pauses import active_hold, date_of_dunning_day, dunning_day
from policies.rules import select_policy
from policies.schedule import StepDecision, decide_step, describe_day
from policies.schema import PolicyConfig, PolicySettings
from policies.snapshot import (
    CustomerSnapshot,
    DunningInput,
    DunningState,
    Hold,
    HoldKind,
    InvoiceSnapshot,
    StepOutcome,
    StepRecord,
)
from policies.steps import step_actions


@dataclass(slots=True)
class Eval:
    decision: InvoiceDecision
    state: DunningState
    actions: list[PlannedAction] = field(default_factory=list)
    emails: list[PendingEmail] = field(default_factory=list)
    listable: bool = False
    """Overdue and in active dunning: listed in the customer's grouped email."""
    rate_gaps: list[tuple[str, str, date, str]] = field(default_factory=list)
    """(policy, rate table, date, invoice number) the reference rates do not cover."""


@dataclass(slots=True)
class Ctx:
    """Everything known about an invoice in active dunning, for building its actions."""

    org: OrgContext
    settings: PolicySettings
    today: date
    scheduled_for: datetime
    inv: InvoiceSnapshot
    cust: CustomerSnapshot
    st: DunningState
    name: str
    policy: PolicyConfig
    holds: tuple[Hold, ...]
    reasons: list[str]
    onboarding: Onboarding | None

    @property
    def review(self) -> str | None:
        return self.onboarding.review if self.onboarding is not None else None

    def action(
        self,
        kind: str,
        step_id: str | None,
        reason: str,
        key: IdempotencyKey,
        *,
        review: str | None = None,
        text: str | None = None,
        amount: Money | None = None,
        level: EscalationLevel | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> PlannedAction:
        """A planned action for this invoice, carrying the invoice's review reason (plus
        ``review``, e.g. an unconfirmed business customer) and its step's override."""
        step = self.policy.step(step_id) if step_id is not None else None
        why = "; ".join(r for r in (self.review, review) if r) or None
        return PlannedAction(
            kind=kind,
            key=key,
            org=self.org.org,
            customer_id=self.inv.customer_id,
            invoice_id=self.inv.invoice_id,
            invoice_number=self.inv.number,
            policy=self.name,
            step_id=step_id,
            scheduled_for=self.scheduled_for,
            reason=reason,
            review=why,
            review_mode=step.review if step is not None else None,
            text=text,
            amount=amount,
            level=level,
            data=dict(data or {}),
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _done(
    inv: InvoiceSnapshot,
    st: DunningState,
    outcome: Outcome,
    reasons: list[str],
    *,
    policy: str | None = None,
    next_on: date | None = None,
) -> Eval:
    return Eval(
        InvoiceDecision(
            inv.invoice_id,
            inv.number,
            inv.customer_id,
            outcome,
            policy,
            None,
            tuple(reasons),
            next_on,
        ),
        replace(st, next_action_on=next_on),
    )


def _hold_text(hold: Hold, invoice_holds: tuple[Hold, ...]) -> str:
    scope = "invoice" if hold in invoice_holds else "customer"
    verb = "disputed" if hold.kind is HoldKind.DISPUTE else "paused"
    text = f"{scope} is {verb} since {hold.start.isoformat()}"
    if hold.until is not None:
        text += f" until {hold.until.isoformat()}"
    if hold.reason:
        text += f" ({hold.reason})"
    return text


def gate(
    org: OrgContext,
    policies: Mapping[str, PolicyConfig],
    settings: PolicySettings,
    calendar: SendCalendar,
    today: date,
    scheduled_for: datetime,
    item: DunningInput,
    slot_day: date | None = None,
) -> Eval | Ctx:
    """The invoice's context if it is in active dunning today, else the final ``Eval``.
    ``slot_day`` is the local date of ``scheduled_for``, when the caller has it already."""
    inv, cust, st = item.invoice, item.customer, item.state
    if not inv.is_open:
        what = inv.status.value if inv.status.value != "open" else "fully paid (balance 0)"
        return _done(inv, st, Outcome.CLOSED, [f"invoice {inv.number} is {what}: no dunning"])
    selection = select_policy(settings.rules, org.default_policy, inv, cust)
    if selection.excluded:
        return _done(inv, st, Outcome.EXCLUDED, [selection.reason])
    if selection.policy is None or selection.policy not in policies:
        why = selection.reason
        if selection.policy is not None:
            why = f"{why}, but no policy by that name is configured"
        return _done(inv, st, Outcome.NO_POLICY, [why])
    name = selection.policy
    holds = (*st.holds, *cust.holds)
    hold = active_hold(holds, today)
    if hold is not None:
        reasons = [selection.reason, _hold_text(hold, st.holds)]
        return _done(inv, st, Outcome.ON_HOLD, reasons, policy=name, next_on=hold.until)
    if st.stopped:
        level = f" (escalated: {st.escalation.value})" if st.escalation else ""
        assert st.stopped_on is not None
        stopped = f"automatic dunning stopped on {st.stopped_on.isoformat()}{level}"
        return _done(inv, st, Outcome.STOPPED, [selection.reason, stopped], policy=name)
    if slot_day is None:
        slot_day = calendar.local_date(scheduled_for)
    if slot_day > today:
        # Planning now would stack this cycle's messages on the next open morning with
        # the next cycle's: wait, and then send only the latest due step.
        why = (
            f"{calendar.why_closed_today(today)}: nothing is planned until the next open "
            f"day, {slot_day.isoformat()}"
        )
        return _done(
            inv, st, Outcome.WAITING, [selection.reason, why], policy=name, next_on=slot_day
        )
    policy = policies[name]
    ob = onboarding_for(org.go_live, policy, inv, st)
    reasons = [selection.reason]
    if ob is None and org.go_live is not None and org.go_live > inv.due_date and st.steps:
        reasons.append(
            f"go-live {org.go_live.isoformat()}: dunned before go-live rules applied, "
            "it carries on where it stood"
        )
    if ob is not None:
        reasons.append(describe_onboarding(ob))
        if ob.review is not None:
            reasons.append(f"held for review: {ob.review}")
        if st.onboarded_on is None and today < ob.entry_on:
            reasons.append(f"the entry email is due on {ob.entry_on.isoformat()}")
            return _done(inv, st, Outcome.WAITING, reasons, policy=name, next_on=ob.entry_on)
    return Ctx(org, settings, today, scheduled_for, inv, cust, st, name, policy, holds, reasons, ob)


def _enter(ctx: Ctx, real_day: int) -> tuple[DunningState, PendingEmail]:
    """Record the onboarding entry and build its email."""
    ob = ctx.onboarding
    assert ob is not None
    inv, st = ctx.inv, ctx.st
    record = StepRecord(ONBOARDING_STEP, ob.position, ctx.name, StepOutcome.FIRED, ctx.today)
    state = replace(
        st,
        steps=(*st.steps, record),
        onboarded_on=ctx.today,
        # never negative: a step may come later than its gap after the entry, never earlier
        clock_shift=max(real_day - ob.position, 0),
    )
    days = (ctx.today - inv.due_date).days
    why = (
        f"{ctx.name}: onboarding entry ({ob.template!r}): invoice {inv.number} due "
        f"{inv.due_date.isoformat()} was {ob.overdue_days} day(s) overdue at go-live; "
        f"{describe_day(days)}, {Money.of(inv.balance, inv.currency)} open; later steps "
        f"count from today (as from {describe_day(ob.position)})"
    )
    email = PendingEmail(
        org=ctx.org.org,
        customer_id=inv.customer_id,
        policy=ctx.name,
        group=ctx.policy.group_emails,
        step_day=ob.position,
        item=EmailItem(
            inv.invoice_id,
            inv.number,
            ONBOARDING_STEP,
            ob.template,
            step_key(ctx.org.org, inv.invoice_id, ONBOARDING_STEP, ActionKind.EMAIL),
            inv.due_date,
            days,
            Money.of(inv.balance, inv.currency),
        ),
        reason=why,
        entry=True,
        review=ctx.review,
    )
    ctx.reasons.append(why)
    return state, email


def _fee_clock(ctx: Ctx, shift: int) -> tuple[FeeClock, int]:
    """The fee clock and how far it is shifted from the real dunning clock."""
    backdate = ctx.policy.backdate_fees
    offset = 0 if backdate else shift
    inv, holds, today = ctx.inv, ctx.holds, ctx.today

    def date_of(n: int) -> date:
        return date_of_dunning_day(inv.due_date, holds, n + offset, today)

    return (
        FeeClock(
            date_of,
            not_before=None if backdate else ctx.org.go_live,
            skip_through=(
                ctx.onboarding.position if ctx.onboarding is not None and not backdate else None
            ),
        ),
        offset,
    )


def _fee_actions(ctx: Ctx, fees: FeeOutcome) -> list[PlannedAction]:
    out: list[PlannedAction] = []
    for fd in fees.decisions:
        if fd.amount > 0:
            key = fee_key(ctx.org.org, ctx.inv.invoice_id, fd.rule, fd.period)
            amount = Money(fd.amount, ctx.inv.currency)
            out.append(
                ctx.action(
                    ActionKind.LATE_FEE,
                    fd.step_id,
                    f"{ctx.name}: {fd.reason}",
                    key,
                    text=fd.reason,
                    amount=amount,
                )
            )
        else:
            ctx.reasons.append(fd.reason)
    return out


def plan_invoice(ctx: Ctx) -> Eval:
    inv, st, today = ctx.inv, ctx.st, ctx.today
    real_day = dunning_day(inv.due_date, today, ctx.holds)
    calendar_days = (today - inv.due_date).days
    emails: list[PendingEmail] = []
    if ctx.onboarding is not None and st.onboarded_on is None:
        st, entry = _enter(ctx, real_day)
        emails.append(entry)
    shift = st.clock_shift if st.onboarded_on is not None else 0
    day = real_day - shift
    if real_day != calendar_days:
        held = calendar_days - real_day
        ctx.reasons.append(
            f"{_plural(held, 'day')} on hold are not counted: dunning day {real_day}"
        )
    if shift:
        ctx.reasons.append(f"counted from the onboarding entry: dunning day {day} of the policy")
    decision = decide_step(ctx.policy, st, day, inv, ctx.cust)
    wait = decision.fire is not None and _sent_today(st, today)
    if decision.fire is not None and wait:
        ctx.reasons.append(
            f"step {decision.fire.id!r} is due but the invoice already had a step today; "
            "it waits for tomorrow (one email per invoice per morning)"
        )
        decision = replace(decision, fire=None, superseded=())
    for skipped, why in decision.not_applicable:
        ctx.reasons.append(f"step {skipped.id!r} does not apply: {why}")
    built = step_actions(ctx, st, decision, day, calendar_days)
    for spec in source_kinds():
        assert spec.plan_source is not None
        spec.plan_source(SourcePlan(ctx, built, day, calendar_days))
    actions, state = built.actions, built.state
    emails.extend(built.emails)
    clock, offset = _fee_clock(ctx, shift)
    fee_day = real_day - offset
    fees = accrued_fees(ctx.policy, st, inv, ctx.cust, fee_day, clock)
    actions.extend(_fee_actions(ctx, fees))
    next_on = _next_on(today, state, decision, day, fees, fee_day, wait=wait, wake=built.wake_on)
    # one ``replace``, not two: each rebuilds every field, once per invoice and cycle
    charged = (*state.fees, *as_charges(fees.decisions, today)) if fees.decisions else state.fees
    state = replace(state, fees=charged, policy=ctx.name, next_action_on=next_on)
    gaps = _rate_gaps(ctx)
    return Eval(
        InvoiceDecision(
            inv.invoice_id,
            inv.number,
            inv.customer_id,
            Outcome.ACTED if (actions or emails) else Outcome.WAITING,
            ctx.name,
            day,
            tuple(ctx.reasons),
            next_on,
            decision.fire.id if decision.fire else (ONBOARDING_STEP if emails else None),
            tuple(s.id for s in decision.superseded),
            review=ctx.review,
            waived=tuple(fd.reason for fd in fees.decisions if fd.amount <= 0),
        ),
        state,
        actions,
        emails,
        listable=calendar_days > 0 and state.stopped_on is None,
        rate_gaps=gaps,
    )


def _sent_today(state: DunningState, today: date) -> bool:
    """A step (or the onboarding entry) already fired today, or on a later date the
    clock has jumped back from."""
    return any(r.outcome is StepOutcome.FIRED and r.on >= today for r in state.steps)


def _next_on(
    today: date,
    state: DunningState,
    decision: StepDecision,
    day: int,
    fees: FeeOutcome,
    fee_day: int,
    *,
    wait: bool,
    wake: list[date],
) -> date | None:
    if state.stopped_on is not None:
        return None
    ahead: list[date] = [today + timedelta(days=1)] if wait else []
    ahead.extend(d for d in wake if d > today)
    if decision.next_step is not None:
        ahead.append(today + timedelta(days=max(decision.next_step.days - day, 0)))
    if fees.next_day is not None:
        ahead.append(today + timedelta(days=max(fees.next_day - fee_day, 0)))
    return min(ahead, default=None)


def _rate_gaps(ctx: Ctx) -> list[tuple[str, str, date, str]]:
    config = ctx.policy.interest
    if config is None or ctx.today <= ctx.inv.due_date:
        return []
    if ctx.inv.currency not in config.applies_to():
        return []
    gaps = rate_gaps(config, ctx.settings.rates, ctx.inv.due_date, ctx.today)
    return [(ctx.name, table, on, ctx.inv.number) for table, on in gaps]
