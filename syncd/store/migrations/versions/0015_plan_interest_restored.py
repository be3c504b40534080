"""Plans broken before per-day interest waivers: the interest from before the plan restored,
for review.

Until 4526171 a plan broken under ``interest_during_plan = false`` waived interest with a
zero claim ``payment-plan-ID`` through the day it broke. The engine claims only days after
the latest claim, so that zero claim also waived the interest that had accrued before the
plan began, which the business never agreed to give up. Today's code records the plan's own
days as a window instead (``meta["interest-waived:plan/ID"]``, syncd/plans/waiver.py).

Everything needed is stored: the zero claim's ``through`` is the local day the plan broke,
and ``payment_plans.ended_at`` the instant, which together bound the org's UTC offset;
the agreement's local day is the state's copy of the plan's hold (``start``) when the cycle
saved one, else the earliest day ``created_at`` can be in that offset (an hour of
daylight-saving change allowed). Erring early only leaves one more pre-plan day waived.

An invoice is restored only when all of this holds, and is otherwise left exactly as it was:

* it is open with something to pay, and its state has the zero claim;
* no claim was made since (no other claim through the break day or later);
* nothing has been charged to it since the break: no late fee, interest or compensation
  queued (not skipped) from then on, and no fee period charged in its state from then on
  (never charge old interest after the ledger has moved on);
* there are pre-plan days to restore (after the last earlier claim, or the due date, and
  before the agreement).

Restoring replaces the zero claim by the window (agreement day to break day) and marks the
restored days ``meta["interest-review:plan/ID"]``: the claim that takes them is held for
review with that reason (``policies.claims``), never posted by itself, as the go-live rules
hold other old debt. Each restored invoice gets a ``plan.interest_restored`` audit entry.
The downgrade puts the zero claims back and records that it did
(``plan.interest_restore_undone``, naming the entry it reverses): the audit log is
append-only, so the restoring entries stay as history. An interest claim queued since the
restoration that has not gone out (pending or awaiting review) is held for review with the
reason (``action.held``): its amount may include the days the downgrade waives again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from syncd.store.types import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: a migration must not change when the application's names do.
_CHARGE_KINDS = ("late_fee", "interest", "compensation")
_WAIVED = "interest-waived:plan/{}"
_REVIEW = "interest-review:plan/{}"
_EARLIEST, _LATEST = timedelta(hours=-12), timedelta(hours=14)
_DST = timedelta(hours=1)

_plans = sa.table(
    "payment_plans",
    sa.column("id", sa.Integer),
    sa.column("org_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("ended_at", UTCDateTime()),
)
_covered = sa.table(
    "payment_plan_invoices",
    sa.column("plan_id", sa.Integer),
    sa.column("invoice_provider_id", sa.String),
)
_invoices = sa.table(
    "invoices",
    sa.column("id", sa.Integer),
    sa.column("org_id", sa.Integer),
    sa.column("provider_id", sa.String),
    sa.column("status", sa.String),
    sa.column("balance", sa.Numeric),
    sa.column("due_date", sa.Date),
)
_states = sa.table(
    "dunning_states",
    sa.column("invoice_id", sa.Integer),
    sa.column("state", sa.JSON),
    sa.column("updated_at", UTCDateTime()),
)
_outbox = sa.table(
    "outbox_actions",
    sa.column("id", sa.Integer),
    sa.column("org_id", sa.Integer),
    sa.column("idempotency_key", sa.String),
    sa.column("invoice_provider_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("review_reason", sa.Text),
    sa.column("hold_kind", sa.String),
    sa.column("reviewed_by", sa.String),
    sa.column("reviewed_at", UTCDateTime()),
    sa.column("next_attempt_at", UTCDateTime()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("org_id", sa.Integer),
    sa.column("actor", sa.String),
    sa.column("event", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("details", sa.JSON),
)


def agreed_on(
    state: dict[str, Any], plan_id: int, created: datetime, ended: datetime, broke_on: date
) -> date | None:
    """The plan's agreement day in the org's time zone, or the earliest it can have been;
    None when the stored instants and days contradict each other."""
    for hold in state.get("holds") or []:
        if hold.get("by") == f"syncd:plan/{plan_id}" and hold.get("start"):
            return date.fromisoformat(hold["start"])
    midnight = datetime.combine(broke_on, time(), UTC)
    low = max(midnight - ended, _EARLIEST)
    high = min(midnight + timedelta(days=1) - ended, _LATEST)
    if low >= high:
        return None
    return (created.astimezone(UTC) + low - _DST).date()


def restorable(
    state: dict[str, Any], plan_id: int, due: date, charged_since: bool
) -> tuple[dict[str, Any], date, date] | None:
    """The zero claim and the first and last pre-plan day it hides, or None to leave it."""
    claims = state.get("interest") or []
    zero = next((c for c in claims if c.get("step_id") == f"payment-plan-{plan_id}"), None)
    if zero is None or Decimal(str(zero.get("amount") or 0)) != 0 or charged_since:
        return None
    broke_on = date.fromisoformat(zero["through"])
    others = [date.fromisoformat(c["through"]) for c in claims if c is not zero]
    if any(t >= broke_on for t in others):
        return None
    fees = state.get("fees") or []
    if any(date.fromisoformat(f["on"]) >= broke_on and Decimal(str(f["amount"])) > 0 for f in fees):
        return None
    return zero, max([due, *others]) + timedelta(days=1), broke_on


def _charged_since(bind: sa.Connection, org_id: int, invoice: str, since: datetime) -> bool:
    found = bind.execute(
        sa.select(sa.func.count())
        .select_from(_outbox)
        .where(
            _outbox.c.org_id == org_id,
            _outbox.c.invoice_provider_id == invoice,
            _outbox.c.kind.in_(_CHARGE_KINDS),
            _outbox.c.status != "skipped",
            _outbox.c.created_at >= since,
        )
    ).scalar()
    return bool(found)


def _broken_invoices(bind: sa.Connection) -> list[sa.Row[Any]]:
    return list(
        bind.execute(
            sa.select(
                _plans.c.id.label("plan_id"),
                _plans.c.org_id,
                _plans.c.created_at,
                _plans.c.ended_at,
                _invoices.c.id.label("invoice_id"),
                _invoices.c.provider_id,
                _invoices.c.due_date,
                _states.c.state,
            )
            .join(_covered, _covered.c.plan_id == _plans.c.id)
            .join(
                _invoices,
                sa.and_(
                    _invoices.c.org_id == _plans.c.org_id,
                    _invoices.c.provider_id == _covered.c.invoice_provider_id,
                ),
            )
            .join(_states, _states.c.invoice_id == _invoices.c.id)
            .where(
                _plans.c.status == "broken",
                _plans.c.ended_at.is_not(None),
                _invoices.c.status == "open",
                _invoices.c.balance > 0,
            )
            .order_by(_plans.c.id, _invoices.c.id)
        )
    )


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    for row in _broken_invoices(bind):
        state = dict(row.state or {})
        charged = _charged_since(bind, row.org_id, row.provider_id, row.ended_at)
        found = restorable(state, row.plan_id, row.due_date, charged)
        if found is None:
            continue
        zero, first_restored, broke_on = found
        agreed = agreed_on(state, row.plan_id, row.created_at, row.ended_at, broke_on)
        if agreed is None or agreed > broke_on or first_restored >= agreed:
            continue  # not derivable, or no pre-plan day to give back
        last_restored = agreed - timedelta(days=1)
        meta = dict(state.get("meta") or {})
        meta[_WAIVED.format(row.plan_id)] = f"{agreed.isoformat()}/{broke_on.isoformat()}"
        meta[_REVIEW.format(row.plan_id)] = (
            f"{first_restored.isoformat()}/{last_restored.isoformat()}"
        )
        state["meta"] = dict(sorted(meta.items()))
        state["interest"] = [c for c in state.get("interest") or [] if c is not zero]
        bind.execute(
            _states.update()
            .where(_states.c.invoice_id == row.invoice_id)
            .values(state=state, updated_at=now)
        )
        bind.execute(
            _audit.insert().values(
                at=now,
                org_id=row.org_id,
                actor="syncd:migration/0015",
                event="plan.interest_restored",
                subject_type="invoice",
                subject_id=row.provider_id,
                details={
                    "plan_id": row.plan_id,
                    "waived": meta[_WAIVED.format(row.plan_id)],
                    "restored_for_review": meta[_REVIEW.format(row.plan_id)],
                    "removed_claim": zero,
                },
            )
        )


_UNDONE = "plan.interest_restore_undone"


def _undone_entries(bind: sa.Connection) -> set[int]:
    """The ``plan.interest_restored`` entries an earlier downgrade already reversed."""
    rows = bind.execute(sa.select(_audit.c.details).where(_audit.c.event == _UNDONE)).all()
    return {int(details["restored_entry"]) for (details,) in rows}


def downgrade() -> None:
    """Put each removed zero claim back (from the audit entry) and record the reversal.

    The audit log is evidence and append-only (triggers refuse edits and deletes), so the
    ``plan.interest_restored`` entries stay: each gets a ``plan.interest_restore_undone``
    entry naming it (``restored_entry``), saying the zero claim is back and the window and
    review marks are gone, so that the timeline no longer reads as if the days were still
    restored. An entry already reversed by an earlier downgrade is not reversed twice (an
    upgrade after it writes a new ``plan.interest_restored`` entry of its own). A claim
    queued since the restoration and not sent is held for review (``_hold_claim``)."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    done = _undone_entries(bind)
    entries = bind.execute(
        sa.select(_audit.c.id, _audit.c.at, _audit.c.org_id, _audit.c.subject_id, _audit.c.details)
        .where(_audit.c.event == "plan.interest_restored")
        .order_by(_audit.c.id)
    ).all()
    for entry_id, restored_at, org_id, invoice, details in entries:
        if entry_id in done:
            continue
        put_back = _put_back(bind, org_id, invoice, details)
        claim = _hold_claim(bind, org_id, invoice, restored_at, details, now)
        bind.execute(
            _audit.insert().values(
                at=now,
                org_id=org_id,
                actor="syncd:migration/0015",
                event=_UNDONE,
                subject_type="invoice",
                subject_id=invoice,
                details={
                    "plan_id": details["plan_id"],
                    "restored_entry": entry_id,
                    "reason": "migration 0015 downgraded",
                    "claim_put_back": details["removed_claim"] if put_back else None,
                    "state": "restored to the zero claim" if put_back else "no dunning state",
                    "claim_since": claim,
                },
            )
        )


#: Outbox statuses of an action that has not reached the provider and will not by itself
#: once held (``in_flight`` may already have: the executor reconciles it, not a migration).
_UNSENT = ("pending", "awaiting_review")


def _hold_claim(
    bind: sa.Connection,
    org_id: int,
    invoice: str,
    restored_at: datetime,
    details: dict[str, Any],
    now: datetime,
) -> dict[str, Any] | None:
    """The first interest claim queued since the restoration (the only one that can take
    the restored days: later ones start after it), held for review if it has not gone out.

    Its amount may include days the zero claim put back waives again, so an approval given
    before the downgrade (or one given without knowing of it) must not send it. Held, not
    skipped: it also claims the days after the break, which stay the business's to claim;
    a person decides with the reason in front of them."""
    claim = bind.execute(
        sa.select(_outbox.c.id, _outbox.c.idempotency_key, _outbox.c.status)
        .where(
            _outbox.c.org_id == org_id,
            _outbox.c.invoice_provider_id == invoice,
            _outbox.c.kind == "interest",
            _outbox.c.created_at >= restored_at,
        )
        .order_by(_outbox.c.created_at, _outbox.c.id)
        .limit(1)
    ).first()
    if claim is None:
        return None
    if claim.status not in _UNSENT:
        return {"key": claim.idempotency_key, "status": claim.status, "held": False}
    first, last = str(details["restored_for_review"]).split("/")
    through = details["removed_claim"]["through"]
    reason = (
        f"migration 0015 was downgraded: this interest claim was reckoned while {first} to "
        f"{last} (before payment plan {details['plan_id']}) were restored for review, and may "
        f"charge those days, which are waived again (zero claim "
        f"payment-plan-{details['plan_id']} through {through}): skip it, or approve it only "
        "if the business means to claim them"
    )
    bind.execute(
        _outbox.update()
        .where(_outbox.c.id == claim.id)
        .values(
            status="awaiting_review",
            review_reason=reason,
            hold_kind=None,
            reviewed_by=None,
            reviewed_at=None,
            next_attempt_at=None,
            updated_at=now,
        )
    )
    bind.execute(
        _audit.insert().values(
            at=now,
            org_id=org_id,
            actor="syncd:migration/0015",
            event="action.held",
            subject_type="action",
            subject_id=claim.idempotency_key,
            details={"status": "awaiting_review", "was": claim.status, "reason": reason},
        )
    )
    return {"key": claim.idempotency_key, "status": "awaiting_review", "held": True}


def _put_back(bind: sa.Connection, org_id: int, invoice: str, details: dict[str, Any]) -> bool:
    """The zero claim back in the invoice's state, its window and review marks gone; False
    when the invoice has no dunning state any more."""
    plan_id = details["plan_id"]
    found = bind.execute(
        sa.select(_states.c.invoice_id, _states.c.state)
        .join(_invoices, _invoices.c.id == _states.c.invoice_id)
        .where(_invoices.c.org_id == org_id, _invoices.c.provider_id == invoice)
    ).first()
    if found is None:
        return False
    state = dict(found.state or {})
    meta = dict(state.get("meta") or {})
    meta.pop(_WAIVED.format(plan_id), None)
    meta.pop(_REVIEW.format(plan_id), None)
    state["meta"] = meta
    claims = list(state.get("interest") or [])
    if details["removed_claim"] not in claims:
        claims.append(details["removed_claim"])
    state["interest"] = claims
    bind.execute(
        _states.update().where(_states.c.invoice_id == found.invoice_id).values(state=state)
    )
    return True
