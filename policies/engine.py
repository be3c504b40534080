"""Plan one dunning cycle for one org: snapshots and states in, actions and states out.

The engine is a pure function of its arguments (no clock, no I/O), so the same inputs
always give the same plan, ``syncd plan`` shows exactly what the daemon would do, and
the caller can commit the returned actions and states in one transaction: if that
transaction does not commit, nothing happened and the next cycle plans the same thing
again with the same idempotency keys.

Per invoice (``evaluate``): closed (paid, voided, deleted, draft, zero balance) ->
nothing; policy selection by rules (or excluded); holds (invoice or customer paused or
disputed) -> nothing; stopped (escalated or ``stop``) -> nothing; a cycle whose first
send slot is on a later day (closed day, window over) -> nothing until that day, which
then sends only the latest due step; otherwise the onboarding entry (invoices overdue
at go-live, ``onboarding``), the latest due step (earlier missed ones are superseded),
accrued late-fee periods (``fees``) and statutory interest on steps that claim it
(``claims``). Reminder emails are then grouped per customer (``grouping``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from policies.actions import PlannedAction
from policies.calendar import SendCalendar, require_aware
from policies.context import InvoiceDecision, OrgContext, Outcome
from policies.evaluate import Eval, gate, plan_invoice
from policies.grouping import group_emails
from policies.kinds.registry import kind
from policies.schema import PolicyConfig, PolicySettings
from policies.snapshot import DunningInput, DunningState

__all__ = ["Deferral", "InvoiceDecision", "OrgContext", "Outcome", "PlanResult", "plan_cycle"]


@dataclass(frozen=True, slots=True)
class Deferral:
    """A cycle run after today's send window (or on a closed day) plans nothing for today.

    Each invoice's own reason says so, but a person running ``plan`` or ``run-once`` in the
    evening sees only "0 planned" and takes the setup for broken: this is the one line that
    says why, and which day the waiting invoices go out."""

    on: date
    """The org's local date the cycle ran on."""
    until: date
    """The next open day (the org's local date), when the waiting invoices are planned."""
    why: str
    invoices: int
    """Invoices looked at this cycle whose next look is ``until``."""


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
    deferral: Deferral | None = None
    """Set when the cycle's slot falls on a later day than ``as_of``'s."""


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
    today = calendar.local_date(as_of)
    slot_day = calendar.local_date(scheduled_for)
    evals: list[Eval] = []
    seen: set[str] = set()
    items = sorted(invoices, key=lambda i: i.invoice.invoice_id)
    for item in items:
        if item.invoice.invoice_id in seen:
            raise ValueError(f"invoice {item.invoice.invoice_id!r} given twice")
        if item.invoice.customer_id != item.customer.customer_id:
            raise ValueError(f"invoice {item.invoice.invoice_id!r} has the wrong customer")
        seen.add(item.invoice.invoice_id)
        ctx = gate(org, policies, settings, calendar, today, scheduled_for, item, slot_day)
        evals.append(ctx if isinstance(ctx, Eval) else plan_invoice(ctx))
    overdue: dict[str, list[str]] = defaultdict(list)
    for ev in evals:
        if ev.listable:
            overdue[ev.decision.customer_id].append(ev.decision.invoice_id)
    actions = [a for ev in evals for a in ev.actions]
    actions.extend(group_emails([e for ev in evals for e in ev.emails], scheduled_for, overdue))
    # each kind's ``order``: charges first, so that the reminder sent in the same cycle shows them
    actions.sort(key=lambda a: (a.customer_id, kind(a.kind).order, a.invoice_id or "", str(a.key)))
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
        warnings=_rate_warnings(evals),
        deferral=_deferral(calendar, today, slot_day, evals),
    )


def _deferral(
    calendar: SendCalendar, today: date, slot_day: date, evals: list[Eval]
) -> Deferral | None:
    if slot_day <= today:
        return None
    waiting = sum(
        1
        for ev in evals
        if ev.decision.outcome is Outcome.WAITING and ev.decision.next_action_on == slot_day
    )
    return Deferral(today, slot_day, calendar.why_closed_today(today), waiting)


def _rate_warnings(evals: list[Eval]) -> tuple[str, ...]:
    """One warning per missing reference rate, however many invoices need it."""
    needed: dict[tuple[str, str, date], list[str]] = defaultdict(list)
    for ev in evals:
        for policy, table, on, number in ev.rate_gaps:
            needed[(policy, table, on)].append(number)
    out: list[str] = []
    for (policy, table, on), numbers in sorted(needed.items()):
        example = ", ".join(sorted(numbers)[:3])
        out.append(
            f"policy {policy!r} claims statutory interest, but the rates table {table} has "
            f"no rate in force on {on.isoformat()} (needed by {len(numbers)} invoice(s), "
            f"e.g. {example}): add the rate to [rates] {table}"
        )
    return tuple(out)
