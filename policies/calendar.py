"""When actions may go out: the org's timezone, send windows and public holidays.

The engine decides *that* a step is due by local date; the calendar decides *when* it
is delivered: the first instant at or after the cycle that is inside the send window on
an open day. Customers should not get dunning emails on Christmas Day or at 3 a.m.
Wall-clock window bounds are resolved in the org's zone for each date, so windows
follow daylight-saving changes; a bound that falls in a DST gap (e.g. 01:30 on the
spring-forward night) moves forward by the gap, an ambiguous one takes its first
occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from policies.schema import CalendarConfig

_MAX_SEARCH_DAYS = 800


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return {d: str(name) for d, name in table.items()}


def require_aware(at: datetime, what: str = "as_of") -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class SendCalendar:
    config: CalendarConfig
    tz: ZoneInfo

    def local_date(self, at: datetime) -> date:
        require_aware(at)
        return at.astimezone(self.tz).date()

    def at_local(self, day: date, wall: time) -> datetime:
        """The aware instant of a wall-clock time on a date, normalised through UTC so
        that times inside a DST gap become real instants."""
        naive = datetime.combine(day, wall)
        aware = naive.replace(tzinfo=self.tz)
        return aware.astimezone(UTC).astimezone(self.tz)

    def closed_reason(self, day: date) -> str | None:
        """Why nothing goes out on ``day``, or None if it is an open day."""
        weekday = day.weekday()
        if weekday not in {d.number for d in self.config.send_days}:
            return f"{day:%A} is not a send day"
        if day in self.config.closed_dates:
            return f"{day.isoformat()} is a configured closed date"
        if self.config.holiday_country:
            name = _holidays(
                self.config.holiday_country, self.config.holiday_subdivision, day.year
            ).get(day)
            if name is not None:
                return f"{day.isoformat()} is a public holiday ({name})"
        return None

    def why_closed_today(self, day: date) -> str:
        """Why a cycle on ``day`` plans nothing for it: a closed day, or a window past.

        Only asked once the next open slot is known to fall on a later day, so an open day
        here means its send window has already closed."""
        window = f"{self.config.send_from:%H:%M}-{self.config.send_until:%H:%M} {self.tz.key}"
        return self.closed_reason(day) or f"today's send window ({window}) has closed"

    def is_open_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def is_open(self, at: datetime) -> bool:
        require_aware(at)
        day = self.local_date(at)
        if not self.is_open_day(day):
            return False
        start = self.at_local(day, self.config.send_from)
        end = self.at_local(day, self.config.send_until)
        return start <= at < end

    def next_open_slot(self, at: datetime) -> datetime:
        """``at`` itself if the window is open, else the next window opening (local tz)."""
        require_aware(at)
        local = at.astimezone(self.tz)
        first = local.date()
        for offset in range(_MAX_SEARCH_DAYS):
            day = first + timedelta(days=offset)
            if not self.is_open_day(day):
                continue
            start = self.at_local(day, self.config.send_from)
            if offset == 0:
                end = self.at_local(day, self.config.send_until)
                if local < start:
                    return start
                if local < end:
                    return local
                continue
            return start
        raise ValueError("the calendar has no open slot in the next 800 days")
