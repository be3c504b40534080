"""Replay a policy day by day over invoices and their payment history.

Used by ``syncd simulate`` to compare policies before switching: the same engine as the
daemon, fed with each invoice as it stood on each day (balance reconstructed from the
payment history, payments after that day ignored), one cycle per day at ``cycle_time``
local time, applying the returned states exactly as the daemon's caller would. Only
invoices that are due something (their ``next_action_on``) or whose balance changed are
planned each day, together with the other open invoices of their customers, just as
the store would select them; this keeps a year over thousands of invoices fast.

With ``org.go_live`` set the go-live rules apply as in production (onboarding entry,
no backdating, review holds); the result counts actions held for review and fee
periods waived, and repeats each warning of the cycles once (e.g. reference rates that
do not cover the dates).

Voided, deleted and draft invoices are left out entirely (the snapshot does not say
since when they were void); an invoice counts from its issue date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from policies.actions import PlannedAction
from policies.calendar import SendCalendar
from policies.engine import OrgContext, plan_cycle
from policies.kinds.registry import kind
from policies.money import ZERO
from policies.schema import PolicyConfig, PolicySettings
from policies.snapshot import DunningInput, DunningState, InvoiceSnapshot, InvoiceStatus


@dataclass
class Totals:
    emails: int = 0
    provider_emails: int = 0
    notes: int = 0
    escalations: int = 0
    stops: int = 0
    invoices_reminded: int = 0
    held_for_review: int = 0
    """Actions planned with a review reason (e.g. overdue long before go-live)."""
    fee_periods_waived: int = 0
    """Fee periods settled at zero: before go-live, missed during downtime beyond the
    catch-up limit, begun on a zero balance, below minimums or over the cap."""
    fees: dict[str, Decimal] = field(default_factory=dict)
    interest: dict[str, Decimal] = field(default_factory=dict)
    compensation: dict[str, Decimal] = field(default_factory=dict)

    counts: dict[str, int] = field(default_factory=dict)
    """Counters of kinds whose ``tally`` is not one of the fields above."""
    sums: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """Per-currency sums of kinds whose ``money_tally`` is not one of the fields above."""

    def add(self, action: PlannedAction) -> None:
        if action.review is not None:
            self.held_for_review += 1
        spec = kind(action.kind)
        if spec.tally is not None:
            if spec.tally in _COUNTERS:
                setattr(self, spec.tally, getattr(self, spec.tally) + 1)
            else:
                self.counts[spec.tally] = self.counts.get(spec.tally, 0) + 1
            self.invoices_reminded += len(action.items)
        if spec.money_tally is not None and action.amount is not None:
            bucket = (
                getattr(self, spec.money_tally)
                if spec.money_tally in _SUMS
                else self.sums.setdefault(spec.money_tally, {})
            )
            cur = action.amount.currency
            bucket[cur] = bucket.get(cur, ZERO) + action.amount.amount

    def to_dict(self) -> dict[str, Any]:
        def money(d: dict[str, Decimal]) -> dict[str, str]:
            return {k: str(v) for k, v in sorted(d.items())}

        return {
            "emails": self.emails,
            "invoices_reminded": self.invoices_reminded,
            "provider_emails": self.provider_emails,
            "notes": self.notes,
            "escalations": self.escalations,
            "stops": self.stops,
            "held_for_review": self.held_for_review,
            "fee_periods_waived": self.fee_periods_waived,
            "fees": money(self.fees),
            "interest": money(self.interest),
            "compensation": money(self.compensation),
            **dict(sorted(self.counts.items())),
            **{k: money(v) for k, v in sorted(self.sums.items())},
        }


_COUNTERS = frozenset({"emails", "provider_emails", "notes", "escalations", "stops"})
_SUMS = frozenset({"fees", "interest", "compensation"})


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    day: date
    action: PlannedAction


@dataclass(frozen=True)
class SimulationResult:
    start: date
    end: date
    policy: str | None
    timeline: tuple[TimelineEntry, ...]
    per_customer: Mapping[str, Totals]
    overall: Totals
    final_states: Mapping[str, DunningState]
    warnings: tuple[str, ...] = ()
    """The cycles' warnings, each once (e.g. reference rates missing for some dates)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "policy": self.policy,
            "timeline": [{"day": e.day.isoformat(), **e.action.to_dict()} for e in self.timeline],
            "per_customer": {k: v.to_dict() for k, v in sorted(self.per_customer.items())},
            "overall": self.overall.to_dict(),
            "warnings": list(self.warnings),
        }


def invoice_on(invoice: InvoiceSnapshot, day: date) -> InvoiceSnapshot:
    """The invoice as it stood at the end of ``day``."""
    balance = invoice.balance_on(day)
    return replace(
        invoice,
        balance=balance,
        status=InvoiceStatus.OPEN if balance > 0 else InvoiceStatus.PAID,
        payments=tuple(p for p in invoice.payments if p.on <= day),
    )


def simulate(
    *,
    org: OrgContext,
    policies: Mapping[str, PolicyConfig],
    settings: PolicySettings,
    invoices: Iterable[DunningInput],
    start: date,
    end: date,
    policy: str | None = None,
    cycle_time: time = time(9, 0),
) -> SimulationResult:
    """Run one cycle per day from ``start`` to ``end`` inclusive.

    With ``policy``, every invoice uses that policy (rules that exclude still exclude);
    otherwise the org's default and rules choose, as in production. Initial states are
    the inputs' states (pass empty ones to compare policies from a clean slate).
    """
    if end < start:
        raise ValueError("end is before start")
    if policy is not None:
        if policy not in policies:
            raise ValueError(f"no policy named {policy!r}")
        org = replace(org, default_policy=policy)
        settings = settings.model_copy(update={"rules": [r for r in settings.rules if r.exclude]})
    calendar = SendCalendar(settings.calendar, org.timezone)
    inputs = [i for i in invoices if i.invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)]
    states = {i.invoice.invoice_id: i.state for i in inputs}
    last_balance: dict[str, Decimal | None] = {i.invoice.invoice_id: None for i in inputs}
    by_customer: dict[str, list[DunningInput]] = defaultdict(list)
    for i in inputs:
        by_customer[i.invoice.customer_id].append(i)
    timeline: list[TimelineEntry] = []
    per_customer: dict[str, Totals] = defaultdict(Totals)
    overall = Totals()
    warnings: dict[str, None] = {}
    day = start
    while day <= end:
        snapshots: dict[str, InvoiceSnapshot] = {}
        candidates: set[str] = set()
        for i in inputs:
            inv = i.invoice
            if inv.issue_date > day:
                continue
            snap = invoice_on(inv, day)
            snapshots[inv.invoice_id] = snap
            due_on = states[inv.invoice_id].next_action_on
            if last_balance[inv.invoice_id] != snap.balance or (
                due_on is not None and due_on <= day
            ):
                candidates.add(inv.invoice_id)
        if candidates:
            customers = {
                i.invoice.customer_id for i in inputs if i.invoice.invoice_id in candidates
            }
            batch = [
                DunningInput(
                    snapshots[i.invoice.invoice_id], i.customer, states[i.invoice.invoice_id]
                )
                for c in sorted(customers)
                for i in by_customer[c]
                if i.invoice.invoice_id in snapshots
                and (i.invoice.invoice_id in candidates or snapshots[i.invoice.invoice_id].is_open)
            ]
            result = plan_cycle(
                org=org,
                policies=policies,
                settings=settings,
                as_of=calendar.at_local(day, cycle_time),
                invoices=batch,
            )
            states.update(result.states)
            for b in batch:
                last_balance[b.invoice.invoice_id] = b.invoice.balance
            for action in result.actions:
                timeline.append(TimelineEntry(day, action))
                per_customer[action.customer_id].add(action)
                overall.add(action)
            for d in result.decisions:
                if d.waived:
                    per_customer[d.customer_id].fee_periods_waived += len(d.waived)
                    overall.fee_periods_waived += len(d.waived)
            warnings.update(dict.fromkeys(result.warnings))
        day += timedelta(days=1)
    return SimulationResult(
        start=start,
        end=end,
        policy=policy,
        timeline=tuple(timeline),
        per_customer=dict(per_customer),
        overall=overall,
        final_states=dict(states),
        warnings=tuple(warnings),
    )
