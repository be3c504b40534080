"""Whether the org's timezone is one of its company's country.

Send windows, holidays and "today" are all kept in the org's ``timezone``, which defaults to
UTC and which neither ``syncd connect`` nor a provider sets. A New Zealand business left at
UTC would email its customers between 22:00 and 06:00 their time: the pre-flight check
compares the zone with the country the provider gives for the company (zones per country
from Babel's CLDR data) and says what the send window is locally.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.core import get_global

from connectors.base import FindingSeverity
from policies import CalendarConfig

from .model import Finding


def _zones(country: str) -> list[str]:
    return list(get_global("territory_zones").get(country.upper(), []))


def _canonical(name: str) -> str:
    return str(get_global("zone_aliases").get(name, name))


def _window(calendar: CalendarConfig, org_tz: ZoneInfo, local: ZoneInfo, day: date) -> str:
    """The send window of ``day`` in the org's zone, as clock times in ``local``."""
    ends = (
        datetime.combine(day, t, tzinfo=org_tz).astimezone(local)
        for t in (calendar.send_from, calendar.send_until)
    )
    return "-".join(f"{e:%H:%M}" for e in ends)


def _locally(calendar: CalendarConfig, tz_name: str, zones: list[str], now: datetime) -> str:
    """Where the customers would get reminders, at what hours: today, and half a year on
    when daylight saving moves them; by zone, the first two distinct windows."""
    org_tz = ZoneInfo(tz_name)
    today = now.astimezone(org_tz).date()
    later = today + timedelta(days=182)
    by_hours: dict[str, list[str]] = {}
    for zone in zones:
        local = ZoneInfo(zone)
        hours = _window(calendar, org_tz, local, today)
        moved = _window(calendar, org_tz, local, later)
        if moved != hours:
            hours += f" (in {later:%B}: {moved})"
        by_hours.setdefault(hours, []).append(zone)
    shown = [f"{hours} in {names[0]}" for hours, names in list(by_hours.items())[:2]]
    rest = sum(len(names) for names in by_hours.values()) - len(shown)
    more = f", other hours in {rest} more zone{'s' if rest > 1 else ''}" if rest else ""
    return f"customers would get reminders at {', '.join(shown)}{more}"


def timezone_check(
    org: str, tz_name: str, country: str | None, calendar: CalendarConfig, now: datetime
) -> Finding:
    window = f"{calendar.send_from:%H:%M}-{calendar.send_until:%H:%M}"
    zones = _zones(country) if country else []
    data = {"timezone": tz_name, "country": country, "zones": zones}
    if not zones:
        detail = f"timezone {tz_name}: reminders go out {window} there"
        if country is None:
            detail += " (the provider gave no country to compare it with)"
        return Finding(org, "timezone", FindingSeverity.OK, detail, data)
    if _canonical(tz_name) in zones:
        detail = f"timezone {tz_name} is in {country}: reminders go out {window} there"
        return Finding(org, "timezone", FindingSeverity.OK, detail, data)
    if len(zones) == 1:
        advice = f'set timezone = "{zones[0]}"'
    elif len(zones) <= 3:
        advice = "set timezone to one of " + ", ".join(f'"{z}"' for z in zones)
    else:
        advice = "set timezone to your customers' zone (an IANA name)"
    detail = (
        f"timezone {tz_name} is not a timezone of {country}, where the company is: the send "
        f"window ({window}), holidays and 'today' are kept in {tz_name}, so "
        f"{_locally(calendar, tz_name, zones, now)}. Unless your customers are elsewhere, "
        f"{advice} in the org's [[orgs]] table."
    )
    return Finding(org, "timezone", FindingSeverity.WARNING, detail, data)
