"""Send windows, weekends, public holidays and daylight-saving edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from policies import (
    CalendarConfig,
    CustomerSnapshot,
    DunningInput,
    InvoiceSnapshot,
    OrgContext,
    PolicySettings,
    SendCalendar,
    plan_cycle,
    preset_policies,
)

LONDON = ZoneInfo("Europe/London")
ENGLAND = CalendarConfig(holiday_country="GB", holiday_subdivision="ENG")


def cal(config: CalendarConfig = ENGLAND, tz: ZoneInfo = LONDON) -> SendCalendar:
    return SendCalendar(config, tz)


def at(y: int, m: int, d: int, hh: int, mm: int = 0, tz: ZoneInfo = LONDON) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def test_inside_the_window_sends_now() -> None:
    assert cal().next_open_slot(at(2024, 5, 8, 12, 30)) == at(2024, 5, 8, 12, 30)


def test_before_the_window_waits_for_it_and_end_is_exclusive() -> None:
    assert cal().next_open_slot(at(2024, 5, 8, 7, 0)) == at(2024, 5, 8, 9, 0)
    assert cal().next_open_slot(at(2024, 5, 8, 17, 0)) == at(2024, 5, 9, 9, 0)
    assert cal().next_open_slot(at(2024, 5, 8, 16, 59)) == at(2024, 5, 8, 16, 59)


def test_weekend_moves_to_monday() -> None:
    assert cal().next_open_slot(at(2024, 5, 11, 10)) == at(2024, 5, 13, 9)  # Sat -> Mon
    assert cal().next_open_slot(at(2024, 5, 10, 18)) == at(2024, 5, 13, 9)  # Fri evening


def test_easter_bank_holidays_in_england() -> None:
    # Thu 28 Mar 2024 after hours -> Good Friday, weekend, Easter Monday -> Tue 2 Apr
    assert cal().next_open_slot(at(2024, 3, 28, 18)) == at(2024, 4, 2, 9)
    reason = cal().closed_reason(date(2024, 3, 29))
    assert reason is not None and "Good Friday" in reason


def test_subdivision_holidays_differ() -> None:
    # 2 January is a bank holiday in Scotland, not in England
    scotland = CalendarConfig(holiday_country="GB", holiday_subdivision="SCT")
    assert cal(scotland).next_open_slot(at(2024, 1, 2, 10)) == at(2024, 1, 3, 9)
    assert cal(ENGLAND).next_open_slot(at(2024, 1, 2, 10)) == at(2024, 1, 2, 10)


def test_configured_closed_dates_and_custom_days() -> None:
    config = CalendarConfig(
        send_days=["tue", "thu"],
        send_from=time(10),
        send_until=time(12),
        closed_dates=[date(2024, 5, 9)],
    )
    # Wed 8 May -> Thu 9 May is closed -> Tue 14 May 10:00
    assert cal(config).next_open_slot(at(2024, 5, 8, 11)) == at(2024, 5, 14, 10)


def test_dst_window_follows_local_wall_time() -> None:
    # 08:30 UTC is 08:30 GMT in winter (before the window) but 09:30 BST in summer (inside)
    winter = datetime(2024, 3, 8, 8, 30, tzinfo=UTC)
    summer = datetime(2024, 4, 8, 8, 30, tzinfo=UTC)
    assert cal().next_open_slot(winter) == at(2024, 3, 8, 9)
    assert cal().next_open_slot(summer) == summer
    assert cal().next_open_slot(summer).utcoffset() == timedelta(hours=1)


def test_window_bound_in_the_spring_forward_gap() -> None:
    # 31 Mar 2024: clocks go from 01:00 GMT to 02:00 BST; 01:30 does not exist that night
    config = CalendarConfig(
        send_days=["sun"],
        send_from=time(1, 30),
        send_until=time(3),
    )
    slot = cal(config).next_open_slot(datetime(2024, 3, 30, 23, 0, tzinfo=UTC))
    assert slot == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # = 02:30 BST, the gap moved forward
    assert slot.utcoffset() == timedelta(hours=1)


def test_window_bound_in_the_fall_back_overlap_takes_the_first() -> None:
    # 27 Oct 2024: 01:00-02:00 happens twice; a 01:30 window opens at the first 01:30 (BST)
    config = CalendarConfig(
        send_days=["sun"],
        send_from=time(1, 30),
        send_until=time(4),
    )
    slot = cal(config).next_open_slot(datetime(2024, 10, 26, 22, 0, tzinfo=UTC))
    # (compare in UTC: PEP 495 makes == across zones False for ambiguous wall times)
    assert slot.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert slot.utcoffset() == timedelta(hours=1)


def test_today_is_the_org_local_date() -> None:
    # 23:30 UTC on 30 Jun is already 1 Jul in London (BST) but still 30 Jun in Los Angeles
    instant = datetime(2024, 6, 30, 23, 30, tzinfo=UTC)
    assert cal().local_date(instant) == date(2024, 7, 1)
    assert cal(tz=ZoneInfo("America/Los_Angeles")).local_date(instant) == date(2024, 6, 30)


def test_engine_schedules_actions_for_the_next_open_slot() -> None:
    inv = InvoiceSnapshot(
        "i1", "INV-1", "c1", "GBP", date(2024, 3, 1), date(2024, 3, 28), Decimal(100), Decimal(100)
    )
    # cycle at 07:00 on Good Friday (day +1): closed until Tue 2 Apr, so nothing is planned
    # now (a cycle on each closed day would otherwise stack its messages on that morning)
    friday = plan_cycle(
        org=OrgContext("acme", LONDON, "standard"),
        policies=preset_policies(),
        settings=PolicySettings(calendar=ENGLAND),
        as_of=at(2024, 3, 29, 7),
        invoices=[DunningInput(inv, CustomerSnapshot("c1"))],
    )
    assert friday.actions == ()
    assert friday.scheduled_for == at(2024, 4, 2, 9) and friday.scheduled_for.tzinfo is UTC
    (decision,) = friday.decisions
    assert decision.next_action_on == date(2024, 4, 2)
    assert "public holiday (Good Friday)" in decision.reasons[-1]
    # the cycle at 07:00 on Tue 2 Apr (day +5) plans the reminder for 09:00 BST that day
    tuesday = plan_cycle(
        org=OrgContext("acme", LONDON, "standard"),
        policies=preset_policies(),
        settings=PolicySettings(calendar=ENGLAND),
        as_of=at(2024, 4, 2, 7),
        invoices=[DunningInput(inv, CustomerSnapshot("c1"), friday.states["i1"])],
    )
    assert {a.scheduled_for for a in tuesday.actions} == {at(2024, 4, 2, 9)}
    assert [d.fired_step for d in tuesday.decisions] == ["reminder"]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal().next_open_slot(datetime(2024, 5, 8, 12))
