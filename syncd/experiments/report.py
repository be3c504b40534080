"""``syncd report experiment``: the two arms of an A/B policy experiment compared.

Which invoices count: those of the arm's customers that were still unpaid when the
customer was assigned (earlier payments owe nothing to either policy), excluding drafts,
voided and deleted invoices. An invoice is collected when its balance is 0; its payment
day is the latest dated payment or credit allocated to it, and days to payment are counted
from the due date (negative when paid early). The comparison is candidate minus control.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policies.experiments import Arm

from ..store.models import ExperimentAssignment, Invoice, Payment, PaymentAllocation
from .stats import ArmSummary, Interval, newcombe, summarise, welch

MIN_PAID = 30
"""Fewer paid invoices than this in an arm and the report says it cannot tell yet."""


@dataclass(frozen=True)
class ArmData:
    customers: int
    invoices: int
    days_to_payment: list[float]
    """One entry per collected invoice."""


@dataclass(frozen=True)
class Comparison:
    name: str
    arms: dict[str, ArmSummary]
    customers: dict[str, int]
    days_difference: Interval | None
    """Mean days to payment, candidate minus control, Welch 95 %."""
    collected_difference: Interval | None
    """Share of invoices collected, candidate minus control, Newcombe 95 %."""
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        def iv(i: Interval | None) -> dict[str, float] | None:
            return None if i is None else {"estimate": i.estimate, "low": i.low, "high": i.high}

        return {
            "experiment": self.name,
            "arms": {
                arm: {
                    "customers": self.customers[arm],
                    "invoices": s.invoices,
                    "paid": s.paid,
                    "share_collected": s.paid / s.invoices if s.invoices else None,
                    "mean_days_to_payment": s.mean_days,
                    "median_days_to_payment": s.median_days,
                }
                for arm, s in self.arms.items()
            },
            "mean_days_difference": iv(self.days_difference),
            "share_collected_difference": iv(self.collected_difference),
            "verdict": self.verdict,
        }


def compare(name: str, control: ArmData, candidate: ArmData) -> Comparison:
    """The statistics and the plain-words verdict for two arms' data."""
    arms = {
        Arm.CONTROL.value: summarise(control.days_to_payment, control.invoices),
        Arm.CANDIDATE.value: summarise(candidate.days_to_payment, candidate.invoices),
    }
    days = welch(candidate.days_to_payment, control.days_to_payment)
    paid = newcombe(
        len(candidate.days_to_payment),
        candidate.invoices,
        len(control.days_to_payment),
        control.invoices,
    )
    return Comparison(
        name,
        arms,
        {Arm.CONTROL.value: control.customers, Arm.CANDIDATE.value: candidate.customers},
        days,
        paid,
        _verdict(arms, days, paid),
    )


def _verdict(arms: dict[str, ArmSummary], days: Interval | None, paid: Interval | None) -> str:
    small = [a for a, s in arms.items() if s.paid < MIN_PAID]
    if small:
        sizes = ", ".join(f"{a} {arms[a].paid}" for a in arms)
        return (
            f"Not enough data to tell: fewer than {MIN_PAID} paid invoices in the "
            f"{' and '.join(small)} arm{'s' if len(small) > 1 else ''} ({sizes} paid)."
        )
    out: list[str] = []
    if days is None or days.spans_zero:
        out.append("days to payment: no difference can be told apart from chance")
    else:
        faster = "faster" if days.estimate < 0 else "slower"
        out.append(
            f"the candidate is paid {abs(days.estimate):.1f} days {faster} on average "
            f"(95% CI {days.low:+.1f} to {days.high:+.1f})"
        )
    if paid is None or paid.spans_zero:
        out.append("share collected: no difference can be told apart from chance")
    else:
        out.append(
            f"share collected differs by {paid.estimate * 100:+.1f} points "
            f"(95% CI {paid.low * 100:+.1f} to {paid.high * 100:+.1f})"
        )
    return "; ".join(out).capitalize() + "."


def experiment_names(session: Session, org_id: int | None = None) -> list[str]:
    stmt = select(ExperimentAssignment.experiment).distinct()
    if org_id is not None:
        stmt = stmt.where(ExperimentAssignment.org_id == org_id)
    return sorted(session.scalars(stmt))


def load_arms(session: Session, org_id: int, name: str) -> dict[str, ArmData]:
    """Each arm's customers, counted invoices and days to payment, from the store."""
    assigned = {
        c: (arm, at.date())
        for c, arm, at in session.execute(
            select(
                ExperimentAssignment.customer_provider_id,
                ExperimentAssignment.arm,
                ExperimentAssignment.assigned_at,
            ).where(ExperimentAssignment.org_id == org_id, ExperimentAssignment.experiment == name)
        )
    }
    paid_on = _paid_on(session, org_id)
    invoices: dict[str, int] = defaultdict(int)
    days: dict[str, list[float]] = defaultdict(list)
    rows = session.execute(
        select(Invoice.provider_id, Invoice.customer_provider_id, Invoice.due_date, Invoice.status,
               Invoice.balance)
        .where(Invoice.org_id == org_id, Invoice.status.in_(("open", "paid")))
    )  # fmt: skip
    for pid, cust, due, status, balance in rows:
        if cust not in assigned or due is None:
            continue
        arm, since = assigned[cust]
        settled = paid_on.get(pid)
        closed = status == "paid" or balance <= Decimal(0)
        if closed and (settled is None or settled < since):
            continue  # paid before the experiment, or no dated payment to count from
        invoices[arm] += 1
        if closed and settled is not None:
            days[arm].append(float((settled - due).days))
    customers: dict[str, int] = defaultdict(int)
    for arm, _since in assigned.values():
        customers[arm] += 1
    return {
        arm.value: ArmData(customers[arm.value], invoices[arm.value], days[arm.value])
        for arm in Arm
    }


def _paid_on(session: Session, org_id: int) -> dict[str, date]:
    rows = session.execute(
        select(PaymentAllocation.invoice_provider_id, func.max(Payment.date))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.org_id == org_id, Payment.deleted.is_(False), Payment.date.is_not(None))
        .group_by(PaymentAllocation.invoice_provider_id)
    )
    return {pid: d for pid, d in rows if d is not None}


def experiment_report(session: Session, org_id: int, name: str) -> Comparison:
    arms = load_arms(session, org_id, name)
    return compare(name, arms[Arm.CONTROL.value], arms[Arm.CANDIDATE.value])


def experiment_comparisons(session: Session, org_id: int) -> list[Comparison]:
    """Every recorded experiment of the org: for the HTML report's A/B section."""
    return [experiment_report(session, org_id, n) for n in experiment_names(session, org_id)]
