"""The dunning state as it stood on a past day, for back-tests that start there.

Today's stored states already carry everything syncd did since: a replay from a past day
that started from them would begin escalated and charged. Every record in a state is dated
(steps fired, fee periods charged, interest claimed through, stop, onboarding), so the
state on a day is today's state without the records from that day on. The two records
without a date, the escalation level and the compensation claim, are taken from syncd's own
actions in the outbox (planned before the day). Before go-live there was no state at all.

A back-test asks what a policy would have done had syncd been running over the period. An
org that went live after the period began (or has not gone live yet: every org before its
first go-live, exactly when a policy is being chosen) had syncd switched off for it, so a
replay with the real go-live would do nothing until that day and every policy would look
alike. Such a replay assumes syncd went live on its first day instead (:func:`replay_go_live`),
with the go-live rules as in production: no fee period or interest before that day,
invoices already overdue enter at the onboarding step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import DunningInput, DunningState
from policies.schema import EscalationLevel

from ..store.models import OutboxAction

_LEVELS = [level.value for level in EscalationLevel]


def state_on(
    state: DunningState,
    day: date,
    *,
    escalation: EscalationLevel | None = None,
    compensated: bool = False,
) -> DunningState:
    """``state`` with only what happened before ``day``; ``escalation``/``compensated``
    are what the outbox says had been decided before it."""
    steps = tuple(r for r in state.steps if r.on < day)
    onboarded = state.onboarded_on if state.onboarded_on and state.onboarded_on < day else None
    return replace(
        state,
        policy=state.policy if steps else None,
        steps=steps,
        fees=tuple(c for c in state.fees if c.on < day),
        interest=tuple(c for c in state.interest if c.through < day),
        compensation=state.compensation if compensated else None,
        escalation=escalation,
        stopped_on=state.stopped_on if state.stopped_on and state.stopped_on < day else None,
        next_action_on=None,
        onboarded_on=onboarded,
        clock_shift=state.clock_shift if onboarded else 0,
    )


def replay_go_live(go_live: date | None, start: date) -> date:
    """The go-live a replay from ``start`` runs with: the org's own when it was live by
    then, else ``start`` itself (see the module's docstring)."""
    if go_live is None or go_live > start:
        return start
    return go_live


def _decided_before(
    session: Session, org_id: int, before: datetime
) -> tuple[dict[str, EscalationLevel], set[str]]:
    escalations: dict[str, EscalationLevel] = {}
    compensated: set[str] = set()
    rows = session.execute(
        select(OutboxAction.kind, OutboxAction.invoice_provider_id, OutboxAction.payload).where(
            OutboxAction.org_id == org_id,
            OutboxAction.kind.in_(("escalate", "compensation")),
            OutboxAction.scheduled_for < before,
            OutboxAction.status != "skipped",
        )
    )
    for kind, invoice_id, payload in rows:
        if invoice_id is None:
            continue
        if kind == "compensation":
            compensated.add(invoice_id)
            continue
        level = payload.get("level")
        if level in _LEVELS:
            known = escalations.get(invoice_id)
            if known is None or _LEVELS.index(level) > _LEVELS.index(known.value):
                escalations[invoice_id] = EscalationLevel(level)
    return escalations, compensated


def inputs_on(
    session: Session,
    org_id: int,
    inputs: list[DunningInput],
    day: date,
    tz: ZoneInfo,
    go_live: date | None,
) -> list[DunningInput]:
    """The inputs with their states as they stood at the start of ``day``."""
    if go_live is not None and day <= go_live:
        return [replace(i, state=DunningState(holds=i.state.holds)) for i in inputs]
    escalations, compensated = _decided_before(
        session, org_id, datetime.combine(day, time(0), tzinfo=tz)
    )
    return [
        replace(
            i,
            state=state_on(
                i.state,
                day,
                escalation=escalations.get(i.invoice.invoice_id),
                compensated=i.invoice.invoice_id in compensated,
            ),
        )
        for i in inputs
    ]


def describe(inputs: Mapping[str, DunningState]) -> dict[str, int]:
    """How much state the replay starts from (shown so the reader knows)."""
    return {
        "invoices_with_steps": sum(1 for s in inputs.values() if s.steps),
        "fee_periods_charged": sum(1 for s in inputs.values() for c in s.fees if c.amount),
        # Settled at zero (before go-live, below a minimum, over a cap): never charged again.
        "fee_periods_waived": sum(1 for s in inputs.values() for c in s.fees if not c.amount),
        "escalated": sum(1 for s in inputs.values() if s.escalation is not None),
    }
