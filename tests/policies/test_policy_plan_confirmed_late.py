"""A plan's grace days count from the day the customer was sent it when that came after an
instalment's due date: a confirmation approved late does not break the plan on arrival."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policies.plans import Every, PlanVerdict, allocate, schedule, standing

FIRST = date(2026, 3, 2)
PLAN = schedule(Decimal("300.00"), "GBP", count=3, every=Every(months=1), first=FIRST)


def test_grace_counts_from_the_later_of_due_date_and_confirmation() -> None:
    unpaid = allocate(PLAN, [])
    today = date(2026, 3, 12)  # 10 days after instalment 1 fell due, 5 grace days
    assert standing(unpaid, today, 5).verdict is PlanVerdict.BROKEN
    assert standing(unpaid, today, 5, told_on=FIRST).verdict is PlanVerdict.BROKEN
    late = standing(unpaid, today, 5, told_on=date(2026, 3, 10))  # sent 8 days late
    assert late.verdict is PlanVerdict.KEPT and late.instalment == PLAN[0]
    broken = standing(unpaid, date(2026, 3, 16), 5, told_on=date(2026, 3, 10))
    assert broken.verdict is PlanVerdict.BROKEN
    assert "was not paid by 2026-03-15" in broken.reason


def test_a_payment_within_the_late_grace_meets_the_instalment() -> None:
    paid = allocate(PLAN, [(date(2026, 3, 14), Decimal("100.00"))])
    assert standing(paid, date(2026, 3, 20), 5).verdict is PlanVerdict.BROKEN
    kept = standing(paid, date(2026, 3, 20), 5, told_on=date(2026, 3, 10))
    assert kept.verdict is PlanVerdict.KEPT and kept.instalment == PLAN[1]
