"""Plan one dunning cycle for one org: snapshots and states in, actions and states out.

The engine is a pure function of its arguments (no clock, no I/O), so the same inputs
always give the same plan, ``syncd plan`` shows exactly what the daemon would do, and
the caller can commit the returned actions and states in one transaction: if that
transaction does not commit, nothing happened and the next cycle plans the same thing
again with the same idempotency keys.

Per invoice, in order: closed (paid, voided, deleted, draft, zero balance) -> nothing;
policy selection by rules (or excluded); holds (invoice or customer paused/disputed)
-> nothing; stopped (escalated or ``stop``) -> nothing; otherwise the latest due step
fires (earlier missed ones are superseded), accrued late-fee periods are settled, and
statutory interest is claimed by steps that ask for it. Reminder emails are then
grouped per customer. See ``schedule``, ``fees``, ``interest``, ``pauses``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from string import Template
from zoneinfo import ZoneInfo

from policies.actions import (
    ActionKind,
    EmailItem,
    IdempotencyKey,
    PlannedAction,
    compensation_key,
    fee_key,
    interest_key,
    step_key,
)
from policies.calendar import SendCalendar, require_aware
from policies.fees import accrued_fees, as_charges
from policies.grouping import PendingEmail, group_emails
from policies.interest import MissingRate, compensation, statutory_interest
from policies.money import Money, round_money
from policies.pauses import active_hold, dunning_day
from policies.rules import select_policy
from policies.schedule import decide_step, describe_day
from policies.schema import (
    EmailAction,
    EscalateAction,
    EscalationLevel,
    InterestAction,
    NoteAction,
    PolicyConfig,
    PolicySettings,
    ProviderEmailAction,
    StopAction,
)
from policies.snapshot import (
    DunningInput,
    DunningState,
    HoldKind,
    InterestClaim,
    StepOutcome,
    StepRecord,
)


@dataclass(frozen=True, slots=True)
class OrgContext:
    """Per-org facts the engine needs: its name (part of every key), its timezone (what
    "today" means) and the policy used when no rule matches."""

    org: str
    timezone: ZoneInfo
    default_policy: str | None
    go_live: date | None = None
    """The day syncd started dunning for this org. With it set, nothing dated before it is
    charged (unless a policy opts in to backdating) and invoices already overdue on it
    enter the ladder at the onboarding step. None: no go-live rules."""


class Outcome(StrEnum):
    ACTED = "acted"
    WAITING = "waiting"
    CLOSED = "closed"
    EXCLUDED = "excluded"
    ON_HOLD = "on_hold"
    STOPPED = "stopped"
    NO_POLICY = "no_policy"


@dataclass(frozen=True, slots=True)
class InvoiceDecision:
    """What the engine concluded for one invoice and why (for ``plan`` and ``explain``)."""

    invoice_id: str
    number: str
    customer_id: str
    outcome: Outcome
    policy: str | None
    dunning_day: int | None
    reasons: tuple[str, ...]
    next_action_on: date | None
    fired_step: str | None = None
    superseded: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanResult:
    org: str
    as_of: datetime
    scheduled_for: datetime
    """The slot (UTC) every action of this cycle is scheduled for: the first open send
    slot at or after ``as_of`` in the org's calendar."""
    actions: tuple[PlannedAction, ...]
    states: Mapping[str, DunningState]
    """New state per invoice id, only for invoices whose state changed."""
    decisions: tuple[InvoiceDecision, ...]
    warnings: tuple[str, ...] = ()
    """Problems the user should fix that did not stop planning (e.g. the reference-rate
    table does not cover the dates a policy's interest needs)."""


_KIND_ORDER = {
    ActionKind.LATE_FEE: 0,
    ActionKind.INTEREST: 1,
    ActionKind.COMPENSATION: 2,
    ActionKind.PROVIDER_EMAIL: 3,
    ActionKind.EMAIL: 4,
    ActionKind.NOTE: 5,
    ActionKind.ESCALATE: 6,
    ActionKind.STOP: 7,
}
"""Charges first, so that the reminder sent in the same cycle shows them."""


@dataclass
class _Eval:
    decision: InvoiceDecision
    state: DunningState
    actions: list[PlannedAction] = field(default_factory=list)
    emails: list[PendingEmail] = field(default_factory=list)
    listable: bool = False
    """Overdue and in active dunning: listed in the customer's grouped email."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _evaluate(
    *,
    org: OrgContext,
    policies: Mapping[str, PolicyConfig],
    settings: PolicySettings,
    calendar: SendCalendar,
    as_of: datetime,
    scheduled_for: datetime,
    item: DunningInput,
) -> _Eval:
    inv, cust, st = item.invoice, item.customer, item.state
    today = calendar.local_date(as_of)
    cur = inv.currency

    def done(
        outcome: Outcome,
        reasons: list[str],
        *,
        policy: str | None = None,
        day: int | None = None,
        next_on: date | None = None,
        state: DunningState | None = None,
    ) -> _Eval:
        new_state = replace(state or st, next_action_on=next_on)
        return _Eval(
            InvoiceDecision(
                inv.invoice_id,
                inv.number,
                inv.customer_id,
                outcome,
                policy,
                day,
                tuple(reasons),
                next_on,
            ),
            new_state,
        )

    if not inv.is_open:
        what = inv.status.value if inv.status.value != "open" else "fully paid (balance 0)"
        return done(Outcome.CLOSED, [f"invoice {inv.number} is {what}: no dunning"])

    selection = select_policy(settings.rules, org.default_policy, inv, cust)
    if selection.excluded:
        return done(Outcome.EXCLUDED, [selection.reason])
    if selection.policy is None or selection.policy not in policies:
        why = selection.reason
        if selection.policy is not None:
            why = f"{why}, but no policy by that name is configured"
        return done(Outcome.NO_POLICY, [why])
    name = selection.policy
    policy = policies[name]

    holds = (*st.holds, *cust.holds)
    hold = active_hold(holds, today)
    if hold is not None:
        scope = "invoice" if hold in st.holds else "customer"
        if hold.kind is HoldKind.DISPUTE:
            text = f"{scope} is disputed since {hold.start.isoformat()}"
        else:
            text = f"{scope} is paused since {hold.start.isoformat()}"
        if hold.until is not None:
            text += f" until {hold.until.isoformat()}"
        if hold.reason:
            text += f" ({hold.reason})"
        return done(Outcome.ON_HOLD, [selection.reason, text], policy=name, next_on=hold.until)

    if st.stopped:
        level = f" (escalated: {st.escalation.value})" if st.escalation else ""
        assert st.stopped_on is not None
        return done(
            Outcome.STOPPED,
            [selection.reason, f"automatic dunning stopped on {st.stopped_on.isoformat()}{level}"],
            policy=name,
        )

    day = dunning_day(inv.due_date, today, holds)
    calendar_days = (today - inv.due_date).days
    balance = Money.of(inv.balance, cur)
    step_decision = decide_step(policy, st, day, inv, cust)
    reasons = [selection.reason]
    if day != calendar_days:
        reasons.append(
            f"{_plural(calendar_days - day, 'day')} on hold are not counted: dunning day {day}"
        )
    for skipped, why in step_decision.not_applicable:
        reasons.append(f"step {skipped.id!r} does not apply: {why}")

    actions: list[PlannedAction] = []
    emails: list[PendingEmail] = []
    new_steps = list(st.steps)
    new_interest = list(st.interest)
    comp_claimed = st.compensation
    escalation = st.escalation
    stopped_on = st.stopped_on

    def act(
        kind: ActionKind,
        key_step: str | None,
        reason: str,
        *,
        key: IdempotencyKey,
        text: str | None = None,
        amount: Money | None = None,
        level: EscalationLevel | None = None,
    ) -> PlannedAction:
        return PlannedAction(
            kind=kind,
            key=key,
            org=org.org,
            customer_id=inv.customer_id,
            invoice_id=inv.invoice_id,
            invoice_number=inv.number,
            policy=name,
            step_id=key_step,
            scheduled_for=scheduled_for,
            reason=reason,
            text=text,
            amount=amount,
            level=level,
        )

    fire = step_decision.fire
    if fire is not None:
        for s in step_decision.superseded:
            new_steps.append(StepRecord(s.id, s.days, name, StepOutcome.SUPERSEDED, today))
        new_steps.append(StepRecord(fire.id, fire.days, name, StepOutcome.FIRED, today))
        why = (
            f"{name}: step {fire.id!r} ({describe_day(fire.days)}) is due: invoice "
            f"{inv.number} due {inv.due_date.isoformat()}, "
            f"{describe_day(calendar_days)}, {balance} open"
        )
        if step_decision.superseded:
            missed = ", ".join(repr(s.id) for s in step_decision.superseded)
            why += f"; earlier step(s) {missed} were missed and are not sent"
        reasons.append(why)
        subst = {
            "number": inv.number,
            "days_overdue": str(max(calendar_days, 0)),
            "balance": str(balance),
            "due_date": inv.due_date.isoformat(),
            "customer": cust.name or cust.customer_id,
        }
        for action in fire.actions:
            if isinstance(action, EmailAction):
                item_key = step_key(org.org, inv.invoice_id, fire.id, ActionKind.EMAIL)
                emails.append(
                    PendingEmail(
                        org=org.org,
                        customer_id=inv.customer_id,
                        policy=name,
                        group=policy.group_emails,
                        step_day=fire.days,
                        item=EmailItem(
                            inv.invoice_id,
                            inv.number,
                            fire.id,
                            action.template,
                            item_key,
                            inv.due_date,
                            calendar_days,
                            balance,
                        ),
                        reason=why,
                    )
                )
            elif isinstance(action, ProviderEmailAction):
                k = step_key(org.org, inv.invoice_id, fire.id, ActionKind.PROVIDER_EMAIL)
                actions.append(act(ActionKind.PROVIDER_EMAIL, fire.id, why, key=k))
            elif isinstance(action, NoteAction):
                k = step_key(org.org, inv.invoice_id, fire.id, ActionKind.NOTE)
                text = Template(action.text).safe_substitute(subst)
                actions.append(act(ActionKind.NOTE, fire.id, why, key=k, text=text))
            elif isinstance(action, EscalateAction):
                k = step_key(org.org, inv.invoice_id, fire.id, ActionKind.ESCALATE)
                actions.append(
                    act(
                        ActionKind.ESCALATE,
                        fire.id,
                        f"{why}; escalated for {action.level.value} review, "
                        "automatic reminders stop",
                        key=k,
                        level=action.level,
                    )
                )
                escalation = action.level
                stopped_on = today
            elif isinstance(action, StopAction):
                k = step_key(org.org, inv.invoice_id, fire.id, ActionKind.STOP)
                actions.append(
                    act(ActionKind.STOP, fire.id, f"{why}; automatic dunning stops", key=k)
                )
                stopped_on = today
            elif isinstance(action, InterestAction):
                assert policy.interest is not None
                try:
                    calc = statutory_interest(
                        policy.interest,
                        settings.rates,
                        inv,
                        st.interest_through or inv.due_date,
                        today,
                    )
                except MissingRate as exc:
                    reasons.append(f"statutory interest not claimed: {exc}")
                    calc = None
                if calc is not None and calc.amount > 0:
                    k = interest_key(org.org, inv.invoice_id, fire.id, today)
                    actions.append(
                        act(
                            ActionKind.INTEREST,
                            fire.id,
                            f"{why}; {calc.explanation}",
                            key=k,
                            amount=Money(calc.amount, cur),
                        )
                    )
                    new_interest.append(InterestClaim(fire.id, today, calc.amount, cur))
                comp, comp_why = compensation(policy.interest, inv)
                if comp_claimed is None and comp is not None:
                    comp_amount = round_money(comp, cur)
                    k = compensation_key(org.org, inv.invoice_id)
                    actions.append(
                        act(
                            ActionKind.COMPENSATION,
                            fire.id,
                            f"{why}; {comp_why}",
                            key=k,
                            amount=Money(comp_amount, cur),
                        )
                    )
                    comp_claimed = comp_amount
                elif comp is None and comp_claimed is None:
                    reasons.append(f"no fixed compensation: {comp_why}")
            # late_fee actions are handled by the fee accrual below
    elif step_decision.next_step is not None:
        nxt = step_decision.next_step
        reasons.append(
            f"no step due today (dunning day {day}); next: {nxt.id!r} ({describe_day(nxt.days)})"
        )
    else:
        reasons.append(f"no step due today (dunning day {day}) and no further steps")

    fee_outcome = accrued_fees(policy, st, inv, cust, day)
    for fd in fee_outcome.decisions:
        if fd.amount > 0:
            k = fee_key(org.org, inv.invoice_id, fd.rule, fd.period)
            actions.append(
                act(
                    ActionKind.LATE_FEE,
                    fd.step_id,
                    f"{name}: {fd.reason}",
                    key=k,
                    amount=Money(fd.amount, cur),
                )
            )
        else:
            reasons.append(fd.reason)
    new_fees = (*st.fees, *as_charges(fee_outcome.decisions, today))

    next_on: date | None = None
    if stopped_on is None:
        days_ahead = [
            d
            for d in (
                step_decision.next_step.days if step_decision.next_step else None,
                fee_outcome.next_day,
            )
            if d is not None
        ]
        if days_ahead:
            next_on = today + timedelta(days=max(min(days_ahead) - day, 0))
    new_state = replace(
        st,
        policy=name,
        steps=tuple(new_steps),
        fees=new_fees,
        interest=tuple(new_interest),
        compensation=comp_claimed,
        escalation=escalation,
        stopped_on=stopped_on,
        next_action_on=next_on,
    )
    acted = bool(actions or emails)
    return _Eval(
        InvoiceDecision(
            inv.invoice_id,
            inv.number,
            inv.customer_id,
            Outcome.ACTED if acted else Outcome.WAITING,
            name,
            day,
            tuple(reasons),
            next_on,
            fire.id if fire else None,
            tuple(s.id for s in step_decision.superseded),
        ),
        new_state,
        actions,
        emails,
        listable=calendar_days > 0 and stopped_on is None,
    )


def plan_cycle(
    *,
    org: OrgContext,
    policies: Mapping[str, PolicyConfig],
    settings: PolicySettings,
    as_of: datetime,
    invoices: Iterable[DunningInput],
) -> PlanResult:
    """Plan what one cycle at ``as_of`` does for the given invoices of one org.

    ``policies`` must contain every policy the org's default and rules name (use
    ``available_policies`` to include presets). Pass every invoice whose
    ``next_action_on`` is on or before today's local date, every invoice whose snapshot
    changed since it was last planned, and -- so that grouped emails list them -- the
    other open invoices of the customers concerned. Returns the actions and, for each
    invoice whose state changed, its new ``DunningState``; commit both together.
    """
    require_aware(as_of)
    calendar = SendCalendar(settings.calendar, org.timezone)
    # UTC: what the store keeps, and PEP 495 makes == across zones unreliable for
    # ambiguous local times
    scheduled_for = calendar.next_open_slot(as_of).astimezone(UTC)
    evals: list[_Eval] = []
    seen: set[str] = set()
    items = sorted(invoices, key=lambda i: i.invoice.invoice_id)
    for item in items:
        if item.invoice.invoice_id in seen:
            raise ValueError(f"invoice {item.invoice.invoice_id!r} given twice")
        if item.invoice.customer_id != item.customer.customer_id:
            raise ValueError(f"invoice {item.invoice.invoice_id!r} has the wrong customer")
        seen.add(item.invoice.invoice_id)
        evals.append(
            _evaluate(
                org=org,
                policies=policies,
                settings=settings,
                calendar=calendar,
                as_of=as_of,
                scheduled_for=scheduled_for,
                item=item,
            )
        )
    overdue: dict[str, list[str]] = defaultdict(list)
    for ev in evals:
        if ev.listable:
            overdue[ev.decision.customer_id].append(ev.decision.invoice_id)
    actions = [a for ev in evals for a in ev.actions]
    actions.extend(group_emails([e for ev in evals for e in ev.emails], scheduled_for, overdue))
    actions.sort(key=lambda a: (a.customer_id, _KIND_ORDER[a.kind], a.invoice_id or "", str(a.key)))
    states = {
        item.invoice.invoice_id: ev.state
        for ev, item in zip(evals, items, strict=True)
        if ev.state != item.state
    }
    return PlanResult(
        org=org.org,
        as_of=as_of,
        scheduled_for=scheduled_for,
        actions=tuple(actions),
        states=states,
        decisions=tuple(ev.decision for ev in evals),
    )
