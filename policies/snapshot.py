"""Immutable inputs to the engine: what the store knows about an invoice, its customer
and the invoice's dunning history.

The engine never reads the store; the caller builds these from its rows and persists
the ``DunningState`` the engine hands back. Keeping them frozen means a plan is a pure
function of its inputs, which is what makes ``syncd plan`` trustworthy and the
at-most-once property testable. ``DunningState`` round-trips through plain JSON
(``to_dict``/``from_dict``) so it can live in one JSON column next to an indexed
``next_action_on`` column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from policies.kinds.base import EscalationLevel
from policies.money import ZERO


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"
    DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class Payment:
    """Money applied to the invoice on a day; a negative amount is a refund (reopens)."""

    on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceSnapshot:
    """The invoice as last synced.

    ``total`` and ``balance`` are the principal figures, *excluding* fees and interest
    syncd itself charged (if fees are posted as lines on the same invoice, subtract
    them), so that percentages are never taken of earlier fees unless a rule compounds.
    ``payments`` is the history used to reconstruct past balances (interest, simulate).
    """

    invoice_id: str
    number: str
    customer_id: str
    currency: str
    issue_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    status: InvoiceStatus = InvoiceStatus.OPEN
    payments: tuple[Payment, ...] = ()

    def balance_on(self, day: date) -> Decimal:
        """Balance at the end of ``day``, worked back from today's balance so that credit
        notes and adjustments the history does not show are still respected."""
        later = sum((p.amount for p in self.payments if p.on > day), ZERO)
        return self.balance + later

    @property
    def is_open(self) -> bool:
        return self.status is InvoiceStatus.OPEN and self.balance > 0


class HoldKind(StrEnum):
    PAUSE = "pause"
    DISPUTE = "dispute"


@dataclass(frozen=True, slots=True)
class Hold:
    """A pause (promise to pay) or dispute, on an invoice or on a whole customer.

    ``until`` is the first day dunning runs again (exclusive end); None means until
    someone resumes it. Holds are kept as history, not deleted, because the days spent
    on hold are taken off the dunning clock: an invoice resumes where it stood.
    """

    kind: HoldKind
    start: date
    until: date | None = None
    by: str = ""
    reason: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.until is None or day < self.until)


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    customer_id: str
    name: str = ""
    groups: frozenset[str] = frozenset()
    """Customer groups and tags alike; rules and step filters match either."""
    holds: tuple[Hold, ...] = ()
    is_business: bool | None = None
    """True for a business customer, False for a consumer, None when the provider does
    not say. Statutory late-payment interest is for business debts only (see
    ``interest.business_status``)."""
    country: str | None = None
    """ISO 3166-1 alpha-2, when the provider has it."""


class StepOutcome(StrEnum):
    FIRED = "fired"
    SUPERSEDED = "superseded"
    """Was due while the daemon was down but a later step was due too; never sent."""


@dataclass(frozen=True, slots=True)
class StepRecord:
    step_id: str
    day: int
    policy: str
    outcome: StepOutcome
    on: date


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """One charged fee period: ``(rule, period)`` is charged at most once, ever."""

    rule: str
    period: int
    amount: Decimal
    currency: str
    on: date


@dataclass(frozen=True, slots=True)
class InterestClaim:
    """Statutory interest claimed for the days up to and including ``through``."""

    step_id: str
    through: date
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class DunningState:
    """Everything the engine must remember about one invoice between cycles.

    The stage is the furthest step (by day) the invoice has reached; a step at or
    before it never fires again, whatever the policy becomes. ``next_action_on`` is the
    earliest local date on which a cycle could do something for the invoice (None: not
    until something changes, e.g. a payment, a refund, a resume or a policy edit); the
    store indexes it to select candidates.
    """

    policy: str | None = None
    steps: tuple[StepRecord, ...] = ()
    fees: tuple[FeeCharge, ...] = ()
    interest: tuple[InterestClaim, ...] = ()
    compensation: Decimal | None = None
    escalation: EscalationLevel | None = None
    stopped_on: date | None = None
    holds: tuple[Hold, ...] = ()
    next_action_on: date | None = None
    meta: tuple[tuple[str, str], ...] = field(default=())
    """Free-form caller annotations carried unchanged (e.g. who paused and where)."""
    onboarded_on: date | None = None
    """The day the invoice, already overdue at go-live, got its onboarding entry email."""
    clock_shift: int = 0
    """Days taken off the dunning clock at onboarding, so later steps count from the
    entry (the entry stands for the policy's first overdue step)."""

    @property
    def stage(self) -> StepRecord | None:
        fired = [r for r in self.steps if r.outcome is StepOutcome.FIRED]
        return max(fired, key=lambda r: r.day) if fired else None

    @property
    def stage_day(self) -> int | None:
        return max((r.day for r in self.steps), default=None)

    def has_step(self, step_id: str) -> bool:
        return any(r.step_id == step_id for r in self.steps)

    def fee_charged(self, rule: str, period: int) -> bool:
        return any(c.rule == rule and c.period == period for c in self.fees)

    def fees_total(self, rule: str | None = None) -> Decimal:
        return sum((c.amount for c in self.fees if rule is None or c.rule == rule), ZERO)

    @property
    def interest_through(self) -> date | None:
        return max((c.through for c in self.interest), default=None)

    @property
    def stopped(self) -> bool:
        return self.stopped_on is not None

    # -- persistence ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (Decimal as string, dates ISO)."""
        return {
            "v": 1,
            "policy": self.policy,
            "steps": [
                {
                    "step_id": r.step_id,
                    "day": r.day,
                    "policy": r.policy,
                    "outcome": r.outcome.value,
                    "on": r.on.isoformat(),
                }
                for r in self.steps
            ],
            "fees": [
                {
                    "rule": c.rule,
                    "period": c.period,
                    "amount": str(c.amount),
                    "currency": c.currency,
                    "on": c.on.isoformat(),
                }
                for c in self.fees
            ],
            "interest": [
                {
                    "step_id": c.step_id,
                    "through": c.through.isoformat(),
                    "amount": str(c.amount),
                    "currency": c.currency,
                }
                for c in self.interest
            ],
            "compensation": None if self.compensation is None else str(self.compensation),
            "escalation": None if self.escalation is None else self.escalation.value,
            "stopped_on": None if self.stopped_on is None else self.stopped_on.isoformat(),
            "holds": [_hold_to_dict(h) for h in self.holds],
            "next_action_on": (
                None if self.next_action_on is None else self.next_action_on.isoformat()
            ),
            "meta": dict(self.meta),
            "onboarded_on": None if self.onboarded_on is None else self.onboarded_on.isoformat(),
            "clock_shift": self.clock_shift,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DunningState:
        def d(value: Any) -> date | None:
            return None if value is None else date.fromisoformat(value)

        return cls(
            policy=data.get("policy"),
            steps=tuple(
                StepRecord(
                    step_id=r["step_id"],
                    day=int(r["day"]),
                    policy=r["policy"],
                    outcome=StepOutcome(r["outcome"]),
                    on=date.fromisoformat(r["on"]),
                )
                for r in data.get("steps", [])
            ),
            fees=tuple(
                FeeCharge(
                    rule=c["rule"],
                    period=int(c["period"]),
                    amount=Decimal(c["amount"]),
                    currency=c["currency"],
                    on=date.fromisoformat(c["on"]),
                )
                for c in data.get("fees", [])
            ),
            interest=tuple(
                InterestClaim(
                    step_id=c["step_id"],
                    through=date.fromisoformat(c["through"]),
                    amount=Decimal(c["amount"]),
                    currency=c["currency"],
                )
                for c in data.get("interest", [])
            ),
            compensation=(
                None if data.get("compensation") is None else Decimal(data["compensation"])
            ),
            escalation=(
                None if data.get("escalation") is None else EscalationLevel(data["escalation"])
            ),
            stopped_on=d(data.get("stopped_on")),
            holds=tuple(_hold_from_dict(h) for h in data.get("holds", [])),
            next_action_on=d(data.get("next_action_on")),
            meta=tuple(sorted((str(k), str(v)) for k, v in (data.get("meta") or {}).items())),
            onboarded_on=d(data.get("onboarded_on")),
            clock_shift=int(data.get("clock_shift", 0)),
        )


def _hold_to_dict(h: Hold) -> dict[str, Any]:
    return {
        "kind": h.kind.value,
        "start": h.start.isoformat(),
        "until": None if h.until is None else h.until.isoformat(),
        "by": h.by,
        "reason": h.reason,
    }


def _hold_from_dict(data: Mapping[str, Any]) -> Hold:
    until = data.get("until")
    return Hold(
        kind=HoldKind(data["kind"]),
        start=date.fromisoformat(data["start"]),
        until=None if until is None else date.fromisoformat(until),
        by=data.get("by", ""),
        reason=data.get("reason", ""),
    )


@dataclass(frozen=True, slots=True)
class DunningInput:
    """One invoice as handed to the engine: the invoice, its customer, its state."""

    invoice: InvoiceSnapshot
    customer: CustomerSnapshot
    state: DunningState = DunningState()
