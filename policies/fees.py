"""Late fees: which fee periods have accrued for an invoice and how much each costs.

A fee rule is started by a step's ``late_fee`` action and runs on the invoice's dunning
clock (days on hold do not count): the first period starts on the step's day plus
``grace_days``, further periods every ``every`` days/weeks/months after that (months
are counted from the nominal start date with end-of-month clamping, so periods do not
drift). A one-off rule (``fixed``/``percent``) has only period 0.

Each ``(invoice, rule, period)`` is settled at most once, ever: charged, or waived with
the reason (balance below the minimum, currency not configured, cap reached) so that it
is not reconsidered every cycle. If the daemon was down, one cycle charges the current
period and at most ``max_catch_up_periods`` missed ones; older missed periods are waived.
A period is never charged if it started before go-live (unless ``backdate_fees``) or on
a day the balance was zero (paid, then reopened by a refund). Amounts are taken on the
balance when charged, rounded half up to the currency's minor unit, then clamped by the
rule's min/max and finally by the invoice's fee cap (the cap, rounded down, is never
exceeded).
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from policies.money import ZERO, round_down_money, round_money
from policies.schedule import step_skip_reason
from policies.schema import FeeKind, FeeRuleConfig, LateFeeAction, PolicyConfig, StepConfig
from policies.snapshot import CustomerSnapshot, DunningState, FeeCharge, InvoiceSnapshot

HUNDRED = Decimal(100)
_MAX_PERIODS_PER_RUN = 5000


@dataclass(frozen=True, slots=True)
class FeeDecision:
    """One settled period: ``amount`` zero means waived for ``reason``."""

    rule: str
    step_id: str
    period: int
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeeOutcome:
    decisions: tuple[FeeDecision, ...]
    next_day: int | None
    """Dunning day on which the next fee period starts (None: no more periods)."""


def add_months(start: date, months: int) -> date:
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, _stdcal.monthrange(year, month)[1]))


def period_start_day(rule: FeeRuleConfig, anchor_day: int, anchor_date: date, k: int) -> int:
    """Dunning day on which period ``k`` of the rule starts."""
    if k == 0 or rule.kind is not FeeKind.PERCENT_PER_PERIOD:
        return anchor_day
    n = k * rule.every
    if rule.period == "day":
        return anchor_day + n
    if rule.period == "week":
        return anchor_day + 7 * n
    return anchor_day + (add_months(anchor_date, n) - anchor_date).days


def fee_cap(policy: PolicyConfig, invoice: InvoiceSnapshot) -> Decimal | None:
    """The most this invoice may be charged in fees in total, or None (no cap)."""
    if policy.fee_cap is None:
        return None
    caps: list[Decimal] = []
    if policy.fee_cap.amount is not None:
        absolute = policy.fee_cap.amount.for_currency(invoice.currency)
        if absolute is not None:
            caps.append(round_down_money(absolute, invoice.currency))
    if policy.fee_cap.percent_of_total is not None:
        caps.append(
            round_down_money(
                invoice.total * policy.fee_cap.percent_of_total / HUNDRED, invoice.currency
            )
        )
    return min(caps) if caps else None


def fee_starts(policy: PolicyConfig) -> list[tuple[StepConfig, str]]:
    """(step, rule name) for each fee started by a step, in schedule order."""
    out: list[tuple[StepConfig, str]] = []
    for step in policy.schedule():
        for action in step.actions:
            if isinstance(action, LateFeeAction):
                out.append((step, action.fee))
    return out


def one_fee(
    rule: FeeRuleConfig, invoice: InvoiceSnapshot, earlier_same_rule: Decimal
) -> tuple[Decimal, str]:
    """The fee for one period before caps, with a description of how it was computed."""
    cur = invoice.currency
    if rule.kind is FeeKind.FIXED:
        assert rule.amount is not None
        fixed = rule.amount.for_currency(cur)
        if fixed is None:
            return ZERO, f"no fixed amount configured for {cur}"
        amount = round_money(fixed, cur)
        how = f"fixed fee {amount} {cur}"
    else:
        assert rule.percent is not None
        base = invoice.balance
        if rule.kind is FeeKind.PERCENT_PER_PERIOD and rule.compounding:
            base = invoice.balance + earlier_same_rule
        amount = round_money(base * rule.percent / HUNDRED, cur)
        how = f"{rule.percent}% of {base} {cur}"
    if rule.min is not None:
        low = rule.min.for_currency(cur)
        if low is not None and amount < low:
            amount = round_money(low, cur)
            how += f", raised to the minimum {amount} {cur}"
    if rule.max is not None:
        high = rule.max.for_currency(cur)
        if high is not None and amount > high:
            amount = round_down_money(high, cur)
            how += f", limited to the maximum {amount} {cur}"
    return amount, how


@dataclass(frozen=True, slots=True)
class FeeClock:
    """How fee periods map to dates, and what limits a cycle's charges.

    ``date_of(n)`` is the date on which the fee clock reached dunning day ``n`` (days on
    hold and an onboarding shift taken into account); ``not_before`` is the org's go-live
    date unless the policy backdates fees; rules started by a step at or before
    ``skip_through`` never run (their step was replaced by the onboarding entry)."""

    date_of: Callable[[int], date]
    not_before: date | None = None
    skip_through: int | None = None


def simple_clock(invoice: InvoiceSnapshot) -> FeeClock:
    return FeeClock(lambda n: invoice.due_date + timedelta(days=n))


@dataclass(frozen=True, slots=True)
class _Period:
    k: int
    start: int
    on: date


def _unsettled_periods(
    rule: FeeRuleConfig,
    rule_name: str,
    anchor_day: int,
    anchor_date: date,
    state: DunningState,
    day: int,
    clock: FeeClock,
) -> tuple[list[_Period], int | None, int | None]:
    """Unsettled accrued periods, the current (latest accrued) period, the next start."""
    out: list[_Period] = []
    current: int | None = None
    k = 0
    while True:
        if rule.kind is not FeeKind.PERCENT_PER_PERIOD and k > 0:
            return out, current, None
        if rule.max_periods is not None and k >= rule.max_periods:
            return out, current, None
        start = period_start_day(rule, anchor_day, anchor_date, k)
        if start > day:
            return out, current, start
        if len(out) >= _MAX_PERIODS_PER_RUN:
            return out, current, day
        current = k
        if not state.fee_charged(rule_name, k):
            out.append(_Period(k, start, clock.date_of(start)))
        k += 1


def _blocked(
    policy: PolicyConfig,
    label: str,
    period: _Period,
    invoice: InvoiceSnapshot,
    clock: FeeClock,
) -> str | None:
    """Why a period may not be charged whatever its amount, or None."""
    if clock.not_before is not None and period.on < clock.not_before:
        return (
            f"{label} waived: it started on {period.on.isoformat()}, before go-live "
            f"({clock.not_before.isoformat()}); backdate_fees = true would charge it"
        )
    if invoice.balance_on(period.on) <= 0:
        return (
            f"{label} waived: the balance was zero on {period.on.isoformat()}, when the "
            "period started (the invoice was paid then and reopened later)"
        )
    return None


def accrued_fees(
    policy: PolicyConfig,
    state: DunningState,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
    day: int,
    clock: FeeClock | None = None,
) -> FeeOutcome:
    """Settle every accrued, unsettled period: the current one and at most
    ``max_catch_up_periods`` missed ones are charged; older missed ones, periods before
    go-live and periods that started on a zero balance are waived with the reason."""
    clock = clock or simple_clock(invoice)
    ledger = _Ledger(fee_cap(policy, invoice), state.fees_total())
    decisions: list[FeeDecision] = []
    next_day: int | None = None
    for step, rule_name in fee_starts(policy):
        if clock.skip_through is not None and step.days <= clock.skip_through:
            continue
        rule = policy.fees[rule_name]
        anchor_day = step.days + rule.grace_days
        anchor_date = invoice.due_date + timedelta(days=anchor_day)
        if anchor_day > day:
            next_day = anchor_day if next_day is None else min(next_day, anchor_day)
            continue
        if step_skip_reason(step, invoice, customer) is not None:
            continue  # the step that starts the fee does not apply to this invoice
        periods, current, nxt = _unsettled_periods(
            rule, rule_name, anchor_day, anchor_date, state, day, clock
        )
        if nxt is not None:
            next_day = nxt if next_day is None else min(next_day, nxt)
        blocked: dict[int, str] = {}
        for period in periods:
            label = _label(rule, rule_name, period.k)
            why = _blocked(policy, label, period, invoice, clock)
            if why is not None:
                blocked[period.k] = why
        missed = [p.k for p in periods if p.k not in blocked and p.k != current]
        allowed = set(missed[max(len(missed) - policy.max_catch_up_periods, 0) :])
        rule_total = state.fees_total(rule_name)
        for period in periods:
            label = _label(rule, rule_name, period.k)
            if period.k in blocked:
                why = blocked[period.k]
            elif period.k != current and period.k not in allowed:
                why = (
                    f"{label} waived: missed while syncd was not running (at most "
                    f"{policy.max_catch_up_periods} missed period(s) are charged in one cycle)"
                )
            else:
                fd = _settle(rule, rule_name, step.id, period.k, label, invoice, rule_total, ledger)
                decisions.append(fd)
                rule_total += fd.amount
                continue
            decisions.append(FeeDecision(rule_name, step.id, period.k, ZERO, invoice.currency, why))
    if ledger.cap is not None and ledger.charged >= ledger.cap:
        next_day = None  # fees only grow, so a reached cap stays reached
    return FeeOutcome(tuple(decisions), next_day)


def _label(rule: FeeRuleConfig, rule_name: str, k: int) -> str:
    return f"{rule.label or rule_name} period {k}" if k else (rule.label or rule_name)


@dataclass
class _Ledger:
    cap: Decimal | None
    charged: Decimal


def _settle(
    rule: FeeRuleConfig,
    rule_name: str,
    step_id: str,
    k: int,
    label: str,
    invoice: InvoiceSnapshot,
    rule_total: Decimal,
    ledger: _Ledger,
) -> FeeDecision:
    """One chargeable period: minimum balance, amount, then the invoice's cap."""
    cur = invoice.currency
    if rule.min_balance is not None:
        minimum = rule.min_balance.for_currency(cur)
        if minimum is not None and invoice.balance < minimum:
            return FeeDecision(
                rule_name,
                step_id,
                k,
                ZERO,
                cur,
                f"{label} waived: balance {invoice.balance} {cur} is below "
                f"the minimum {minimum} {cur}",
            )
    amount, how = one_fee(rule, invoice, rule_total)
    if amount <= 0:
        return FeeDecision(rule_name, step_id, k, ZERO, cur, f"{label} waived: {how}")
    if ledger.cap is not None:
        room = ledger.cap - ledger.charged
        if room <= 0:
            return FeeDecision(
                rule_name,
                step_id,
                k,
                ZERO,
                cur,
                f"{label} waived: the fee cap of {ledger.cap} {cur} is reached",
            )
        if amount > room:
            amount = room
            how += f", reduced to {amount} {cur} by the fee cap of {ledger.cap} {cur}"
    ledger.charged += amount
    return FeeDecision(rule_name, step_id, k, amount, cur, f"{label}: {how}")


def as_charges(decisions: tuple[FeeDecision, ...], on: date) -> tuple[FeeCharge, ...]:
    return tuple(FeeCharge(d.rule, d.period, d.amount, d.currency, on) for d in decisions)
