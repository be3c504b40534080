"""The org facts the engine plans with, and the per-invoice decision it reports.

Kept apart from ``engine`` so that the per-invoice evaluation (``evaluate``), onboarding
and explanations can share them without importing the cycle planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo


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
    review: str | None = None
    """Why every action of this invoice is held for human review (None: not held)."""
    waived: tuple[str, ...] = ()
    """Fee periods settled at zero this cycle, each with its reason."""
