"""Which reminder an instalment has reached, counted from the day the customer was sent the
plan (``told_on``): an instalment already due then is "missed" only ``after_miss_days``
after it, as its grace days count from it (``standing``), and never "due today"."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from policies.plans import (
    Instalment,
    PaymentPlanSettings,
    PlanVerdict,
    Progress,
    allocate,
    reminder_due,
    standing,
)

DUE = date(2026, 12, 10)
SETTINGS = PaymentPlanSettings()  # before 3 days, on the due day, missed 1 day after, grace 5


def _unpaid(due: date = DUE) -> Progress:
    (progress,) = allocate([Instalment(1, due, Decimal("100.00"))], [])
    return progress


def _day(n: int) -> date:
    return DUE + timedelta(days=n)


@pytest.mark.parametrize(
    ("today", "expected"),
    [(-4, None), (-3, "before"), (-1, "before"), (0, "due"), (1, "missed"), (9, "missed")],
)
def test_told_long_before_the_schedule_is_unchanged(today: int, expected: str | None) -> None:
    progress = _unpaid()
    assert reminder_due(progress, _day(today), SETTINGS, _day(-20)) == expected
    assert reminder_due(progress, _day(today), SETTINGS) == expected


def test_an_instalment_already_due_when_told_is_missed_only_a_day_after_the_telling() -> None:
    progress = _unpaid()
    told = _day(4)  # the confirmation went out four days after the due date
    assert reminder_due(progress, told, SETTINGS, told) is None  # not in the same breath
    assert reminder_due(progress, _day(5), SETTINGS, told) == "missed"
    # ...and the plan holds them to the same start: not broken before told + grace.
    assert standing([progress], told + timedelta(days=5), 5, told).verdict is PlanVerdict.KEPT
    assert standing([progress], told + timedelta(days=6), 5, told).verdict is PlanVerdict.BROKEN
    # Without the telling day the old rule would have reminded at once.
    assert reminder_due(progress, told, SETTINGS) == "missed"


def test_no_due_today_about_an_instalment_due_before_the_telling() -> None:
    settings = PaymentPlanSettings(after_miss_days=3, grace_days=5)
    progress = _unpaid()
    told = _day(1)  # within the 3 days before "missed"
    assert reminder_due(progress, _day(1), settings) is None  # "due today" is a day late
    assert reminder_due(progress, _day(1), settings, told) is None
    assert reminder_due(progress, _day(3), settings, told) is None
    assert reminder_due(progress, _day(4), settings, told) == "missed"
    # Told on the due day itself, "due today" is true (when it is sent is the caller's
    # business: not within a day of the confirmation); and so is "coming up" told before.
    assert reminder_due(progress, _day(0), settings, _day(0)) == "due"
    assert reminder_due(progress, _day(-2), settings, _day(-2)) == "before"


def test_a_longer_after_miss_counts_from_the_telling_across_a_month_end() -> None:
    settings = PaymentPlanSettings(after_miss_days=3, grace_days=5)
    progress = _unpaid(date(2026, 12, 30))
    told = date(2026, 12, 31)
    assert reminder_due(progress, date(2027, 1, 2), settings, told) is None
    assert reminder_due(progress, date(2027, 1, 3), settings, told) == "missed"
    assert reminder_due(progress, date(2027, 1, 2), settings) == "missed"


@pytest.mark.parametrize(
    "settings",
    [
        PaymentPlanSettings(after_miss_days=3, grace_days=5),
        PaymentPlanSettings(after_miss_days=None),  # no "missed" at all
        PaymentPlanSettings(after_miss_days=6, grace_days=5),  # "missed" past the grace days
    ],
)
def test_due_today_only_on_the_due_day_itself(settings: PaymentPlanSettings) -> None:
    """The day after the due day "due today" is untrue; until "missed" is reached (if ever)
    there is no reminder to send, not only what the cycle queues after its own re-check."""
    progress = _unpaid()
    assert reminder_due(progress, _day(0), settings) == "due"
    assert reminder_due(progress, _day(0), settings, _day(-20)) == "due"
    for late in (1, 2):
        assert reminder_due(progress, _day(late), settings) is None, late
        assert reminder_due(progress, _day(late), settings, _day(-20)) is None, late
    reached = reminder_due(progress, _day(30), settings)
    assert reached == ("missed" if settings.after_miss_days == 3 else None)
