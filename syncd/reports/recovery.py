"""The recovery ladder's records (payment plans, settlements, hand-offs) for the
effectiveness report: the seam for issue 17.

Those records are built on other branches and may not exist in a store yet. Each figure
here comes from one small function per record kind; while its table is absent the function
returns nothing with a plain note, so the report says "not recorded" instead of a zero that
looks like a measurement. Once a branch lands its table, its function is the one place to
fill in (read the rows and count them); the report and its output shape do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import inspect
from sqlalchemy.orm import Session

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
            "written_off": {k: str(v) for k, v in sorted(self.written_off.items())},
            "handoffs": self.handoffs,
            "notes": list(self.notes),
        }


def _has_table(session: Session, name: str) -> bool:
    return inspect(session.get_bind()).has_table(name)


def _absent_or_unwired(session: Session, kind: str, what: str) -> str:
    table = TABLES[kind]
    if not _has_table(session, table):
        return f"{what}: not recorded in this store yet (no {table} table)"
    return f"{what}: the {table} table exists but this report does not read it yet"


def recovery_figures(session: Session, org_id: int, start: date, end: date) -> RecoveryFigures:
    """Plans kept and broken, settlements and amounts written off, hand-offs in the period.

    Every figure stays None (shown as "not recorded") until its record kind is wired here.
    """
    out = RecoveryFigures()
    out.notes.append(_absent_or_unwired(session, "plans", "payment plans"))
    out.notes.append(_absent_or_unwired(session, "settlements", "settlements"))
    out.notes.append(_absent_or_unwired(session, "handoffs", "hand-offs"))
    return out
