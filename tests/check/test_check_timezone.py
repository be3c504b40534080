"""The org's timezone against its company's country: the send window is kept in the org's
zone, so a business left at the default UTC would email customers at night."""

from __future__ import annotations

from datetime import UTC, datetime, time

from connectors.base import FindingSeverity
from policies import CalendarConfig
from syncd.check.timezone import timezone_check

NOVEMBER = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
WINDOW = CalendarConfig()


def test_a_new_zealand_company_left_at_utc_would_email_customers_at_night() -> None:
    found = timezone_check("shop", "UTC", "NZ", WINDOW, NOVEMBER)
    assert found.severity is FindingSeverity.WARNING and found.check == "timezone"
    assert "timezone UTC is not a timezone of NZ" in found.detail
    # 09:00-17:00 UTC is 22:00-06:00 in Auckland in November (NZDT, +13), 21:00-05:00 in May.
    assert "22:00-06:00 (in May: 21:00-05:00) in Pacific/Auckland" in found.detail
    assert "22:45-06:45 (in May: 21:45-05:45) in Pacific/Chatham" in found.detail
    assert 'set timezone to one of "Pacific/Auckland", "Pacific/Chatham"' in found.detail
    assert found.data == {
        "timezone": "UTC",
        "country": "NZ",
        "zones": ["Pacific/Auckland", "Pacific/Chatham"],
    }


def test_a_one_zone_country_gets_the_exact_setting_and_the_summer_hours() -> None:
    found = timezone_check("uk", "UTC", "GB", WINDOW, NOVEMBER)
    assert found.severity is FindingSeverity.WARNING
    assert "09:00-17:00 (in May: 10:00-18:00) in Europe/London" in found.detail
    assert 'set timezone = "Europe/London"' in found.detail


def test_the_window_configured_is_the_one_shown() -> None:
    late = CalendarConfig(send_from=time(10, 30), send_until=time(15, 0))
    found = timezone_check("uk", "America/New_York", "GB", late, NOVEMBER)
    assert "the send window (10:30-15:00)" in found.detail
    assert "15:30-20:00 (in May: 15:30-20:00)" not in found.detail  # same offset gap: no note
    assert "15:30-20:00 in Europe/London" in found.detail


def test_a_zone_of_the_country_or_an_alias_of_one_passes() -> None:
    for zone in ("Europe/London", "Europe/Belfast", "GB"):
        found = timezone_check("uk", zone, "GB", WINDOW, NOVEMBER)
        assert found.severity is FindingSeverity.OK, zone
        assert f"timezone {zone} is in GB" in found.detail
    assert timezone_check("us", "America/Denver", "US", WINDOW, NOVEMBER).severity is (
        FindingSeverity.OK
    )


def test_a_many_zone_country_names_two_windows_and_counts_the_rest() -> None:
    found = timezone_check("us", "Europe/London", "US", WINDOW, NOVEMBER)
    assert found.severity is FindingSeverity.WARNING
    assert "more zones" in found.detail and "your customers' zone (an IANA name)" in found.detail


def test_without_a_country_there_is_nothing_to_compare() -> None:
    for country in (None, "ZZ"):
        found = timezone_check("x", "UTC", country, WINDOW, NOVEMBER)
        assert (
            found.severity is FindingSeverity.OK and "reminders go out 09:00-17:00" in found.detail
        )
    assert "no country" in timezone_check("x", "UTC", None, WINDOW, NOVEMBER).detail
