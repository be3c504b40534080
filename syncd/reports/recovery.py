"""The recovery ladder's records (payment plans, settlements, hand-offs) for the
effectiveness report: the seam for issue 17.

Those records are built on other branches and may not exist in a store yet. Each figure
comes from one small function per record kind that reads only the few columns it needs;
while its table is absent the figure stays None with a plain note, so the report says "not
recorded" instead of a zero that looks like a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Integer, String, column, inspect, select, table
from sqlalchemy.orm import Session

from ..store.queries import round_money
from ..store.types import Money, UTCDateTime

#: The table each record kind is expected in (issue 17's branches).
TABLES = {"plans": "payment_plans", "settlements": "settlements", "handoffs": "handoffs"}


@dataclass
class RecoveryFigures:
    plans_kept: int | None = None
    plans_broken: int | None = None
    settlements: int | None = None
    written_off: dict[str, Decimal] = field(default_factory=dict)
    handoffs: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "plans_kept": self.plans_kept,
            "plans_broken": self.plans_broken,
            "settlements": self.settlements,
            "written_off": {k: str(round_money(v, k)) for k, v in sorted(self.written_off.items())},
            "handoffs": self.handoffs,
            "notes": list(self.notes),
        }


def _has_table(session: Session, name: str) -> bool:
    return inspect(session.get_bind()).has_table(name)


def _in(at: datetime, start: date, end: date) -> bool:
    return start <= at.astimezone(UTC).date() <= end


# The columns read, as issue 17's migrations (0008 plans/settlements, 0009 hand-offs) create
# them; only these are touched, so other columns may change freely.
_PLANS = table(
    "payment_plans",
    column("org_id", Integer()),
    column("status", String()),
    column("created_at", UTCDateTime()),
)
_SETTLEMENTS = table(
    "settlements",
    column("org_id", Integer()),
    column("status", String()),
    column("currency", String()),
    column("balance", Money()),
    column("agreed_amount", Money()),
    column("created_at", UTCDateTime()),
)
_HANDOFFS = table("handoffs", column("org_id", Integer()), column("created_at", UTCDateTime()))


def _plans(session: Session, org_id: int, start: date, end: date, out: RecoveryFigures) -> None:
    """Plans agreed in the period: kept (completed) and broken; running ones are neither."""
    if not _has_table(session, TABLES["plans"]):
        out.notes.append("payment plans: not recorded in this store yet (no payment_plans table)")
        return
    rows = session.execute(
        select(_PLANS.c.status, _PLANS.c.created_at).where(_PLANS.c.org_id == org_id)
    ).all()
    statuses = [status for status, at in rows if _in(at, start, end)]
    out.plans_kept = statuses.count("completed")
    out.plans_broken = statuses.count("broken")
    running = statuses.count("active")
    if running:
        out.notes.append(f"payment plans: {running} agreed in the period still running")


def _settlements(
    session: Session, org_id: int, start: date, end: date, out: RecoveryFigures
) -> None:
    """Settlements agreed in the period and met; written off = balance - agreed amount."""
    if not _has_table(session, TABLES["settlements"]):
        out.notes.append("settlements: not recorded in this store yet (no settlements table)")
        return
    s = _SETTLEMENTS.c
    rows = session.execute(
        select(s.status, s.currency, s.balance, s.agreed_amount, s.created_at).where(
            s.org_id == org_id
        )
    ).all()
    met = [r for r in rows if r.status == "met" and _in(r.created_at, start, end)]
    out.settlements = len(met)
    for r in met:
        out.written_off[r.currency] = out.written_off.get(r.currency, Decimal(0)) + (
            r.balance - r.agreed_amount
        )


def _handoffs(session: Session, org_id: int, start: date, end: date, out: RecoveryFigures) -> None:
    if not _has_table(session, TABLES["handoffs"]):
        out.notes.append("hand-offs: not recorded in this store yet (no handoffs table)")
        return
    rows = session.execute(
        select(_HANDOFFS.c.created_at).where(_HANDOFFS.c.org_id == org_id)
    ).scalars()
    out.handoffs = sum(1 for at in rows if _in(at, start, end))


def recovery_figures(session: Session, org_id: int, start: date, end: date) -> RecoveryFigures:
    """Plans kept and broken, settlements and amounts written off, hand-offs in the period
    (by the day they were agreed or made, UTC). A figure stays None ("not recorded") while
    its table does not exist in this store."""
    out = RecoveryFigures()
    _plans(session, org_id, start, end, out)
    _settlements(session, org_id, start, end, out)
    _handoffs(session, org_id, start, end, out)
    return out
