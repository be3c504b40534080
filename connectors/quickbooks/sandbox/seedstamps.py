"""MetaData stamps for the seed's writes, formatted from a per-hour cache.

Every seeded write stamps its moment as ``entity_time`` does (company-local, whole seconds,
numeric offset): some 250,000 stamps for 100,000 invoices, and ``isoformat`` with a zone's
offset lookup was the largest single cost of the bulk writes. Within one hour of one local
day (and one ``fold``) the offset of the company's zone does not change, so the text up to
the minutes and the offset are worked out once per hour and the minutes and seconds added
from a table. An hour whose offset differs at its start and end (a zone changing on the
half hour) is never cached: its stamps come from ``entity_time`` itself.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from .wire import entity_time

#: "MM:SS" for each second of an hour.
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


class SeedStamps:
    """``entity_time(moment, tz)`` for one zone, with the hour's text and offset cached."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._hours: dict[int, tuple[str, str]] = {}

    def __call__(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz)  # itself when already in the zone
        key = (local.toordinal() * 24 + local.hour) * 2 + local.fold
        parts = self._hours.get(key)
        if parts is None:
            parts = self._hours[key] = _hour_parts(local)
        head, offset = parts
        if not head:  # an hour in which the offset moves
            return entity_time(moment, self.tz)
        return head + _MINUTES_SECONDS[local.minute * 60 + local.second] + offset


def _hour_parts(local: datetime) -> tuple[str, str]:
    """("YYYY-MM-DDTHH:", offset text) of ``local``'s hour, or ("", "") if its offset moves."""
    start = local.replace(minute=0, second=0, microsecond=0)
    end = local.replace(minute=59, second=59, microsecond=0)
    if start.utcoffset() != end.utcoffset():
        return "", ""
    text = start.isoformat()
    return text[:14], text[19:]
