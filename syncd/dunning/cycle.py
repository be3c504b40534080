"""One dunning cycle for one org: plan, then write every new action to the outbox together
with the dunning state that caused it, in a single transaction.

If the process dies before the commit, nothing happened and the next cycle plans the same
actions again; after the commit, the actions exist exactly once (the outbox is unique per org
and idempotency key) and the state says the steps fired, so they are never planned again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import Deferral, DunningState, PlannedAction

from ..config.loader import LoadedConfig
from ..crashpoints import crashpoint
from ..letters.spec import letter_payload
from ..outbox.queue import enqueue
from ..plans.follow import follow_up
from ..review.golive import go_live_for
from ..review.hold import Holds, release_addressed
from ..store import Store
from ..store.models import DunningState as DunningStateRow
from ..store.models import Invoice, OutboxAction
from .planning import OrgPlan, org_context, plan_org_candidates


@dataclass
class CycleReport:
    org: str
    planned: int = 0
    queued: int = 0
    already_queued: int = 0
    states: int = 0
    #: Of ``queued``: written as awaiting review.
    held: int = 0
    #: Set when the cycle ran after today's send window or on a closed day (nothing planned
    #: for today; the invoices due wait for ``deferral.until``).
    deferral: Deferral | None = None


def run_cycle(
    store: Store, config: LoadedConfig, org_name: str, org_id: int, now: datetime
) -> CycleReport:
    report = CycleReport(org_name)
    with store.sessions.begin() as session:
        go_live_for(session, config, org_name, org_id, record=True)  # first cycle: stored
        follow_up(session, config, org_name, org_id, now)  # plans and settlements first
        release_addressed(session, config, org_name, org_id, now)  # a sync found the address
        plan = plan_org_candidates(session, config, org_name, org_id, now, record_arms=True)
        report.planned = len(plan.result.actions)
        report.deferral = plan.result.deferral
        _queue(session, config, org_name, org_id, plan.result.actions, now, report)
        _record_states(session, org_id, plan, now, report)
        crashpoint("cycle.before_commit")
    crashpoint("cycle.after_commit")
    return report


def _queue(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    actions: Sequence[PlannedAction],
    now: datetime,
    report: CycleReport,
) -> None:
    """Each planned action into the outbox once, held for review where a rule says so."""
    keys = [str(a.key) for a in actions]
    holds = Holds(session, config, org_name, org_id, actions)
    actions = holds.with_charges(actions)
    existing = (
        set(
            session.scalars(
                select(OutboxAction.idempotency_key).where(
                    OutboxAction.org_id == org_id, OutboxAction.idempotency_key.in_(keys)
                )
            )
        )
        if keys
        else set()
    )
    for action in actions:
        key = str(action.key)
        if key in existing:
            report.already_queued += 1
            continue
        existing.add(key)
        held, hold_kind = holds.hold(action)
        payload = action.to_dict()
        letter, letter_hold = letter_payload(session, config, org_name, org_id, payload)
        if letter is not None:
            payload["letter"] = letter
            held = held or letter_hold
        new = enqueue(
            session,
            org_id=org_id,
            key=key,
            kind=str(action.kind),
            payload=payload,
            now=now,
            review=held,
            hold_kind=hold_kind,
            invoice_id=action.invoice_id,
            customer_id=action.customer_id,
            reason=action.reason,
            scheduled_for=action.scheduled_for,
        )
        if not new:
            # Another process queued the same action at the same instant.
            report.already_queued += 1
            continue
        report.queued += 1
        report.held += int(held is not None)


def _record_states(
    session: Session, org_id: int, plan: OrgPlan, now: datetime, report: CycleReport
) -> None:
    """Every planned invoice records the fingerprint it was planned under (and when), so
    the next cycle skips it until it is due or something changes."""
    result = plan.result
    touched = set(plan.planned) | set(result.states)
    ids: dict[str, int] = {}
    for start in range(0, len(touched), 5000):
        chunk = sorted(touched)[start : start + 5000]
        # (A Result has .keys(), so dict(result) would treat it as a mapping.)
        ids.update(
            {
                provider_id: internal
                for provider_id, internal in session.execute(
                    select(Invoice.provider_id, Invoice.id).where(
                        Invoice.org_id == org_id, Invoice.provider_id.in_(chunk)
                    )
                )
            }
        )
    rows = {
        r.invoice_id: r
        for start in range(0, len(ids), 5000)
        for r in session.scalars(
            select(DunningStateRow).where(
                DunningStateRow.invoice_id.in_(list(ids.values())[start : start + 5000])
            )
        )
    }
    for provider_id, internal in ids.items():
        row = rows.get(internal)
        state = result.states.get(provider_id)
        if row is None:
            row = DunningStateRow(invoice_id=internal, state=DunningState().to_dict())
            session.add(row)
        if state is not None:
            row.state = state.to_dict()
            row.stage = state.stage.step_id if state.stage else None
            row.escalated = state.escalation.value if state.escalation else None
            row.next_action_on = state.next_action_on
            report.states += 1
        row.plan_fingerprint = plan.fingerprint
        row.updated_at = now


def tz_of(config: LoadedConfig, org_name: str) -> str:
    return str(org_context(config, org_name).timezone)
