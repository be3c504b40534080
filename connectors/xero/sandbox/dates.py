"""Xero's wire formats for dates and times.

Xero answers in the old ASP.NET JSON form ``/Date(ms+0000)/`` with ISO copies
beside it, while clients send either that form (xero-python serialises model
dates that way) or ISO strings, and headers such as ``If-Modified-Since`` come
as ISO 8601 (xero-python) or RFC 1123 (hand-written clients).  Everything here
normalises to timezone-aware UTC so the rest of the sandbox never sees a naive
datetime.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime

_MS_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<tz>[+-]\d{2,4})?\)/$")
_ISO_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class DateParseError(ValueError):
    """A client sent a date Xero would not understand."""


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exact (no float rounding): timedelta floor division."""
    return (moment - EPOCH) // _MS


def date_start(day: date) -> datetime:
    """Xero stores document dates as midnight UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


@functools.lru_cache(maxsize=8192)
def ms_date(day: date) -> str:
    """``Date``/``DueDate`` form, with the ``+0000`` suffix the recordings show.

    Kept per day: a page of invoices renders thousands of dates from a few hundred days."""
    return f"/Date({to_ms(date_start(day))}+0000)/"


def ms_datetime(moment: datetime) -> str:
    """``UpdatedDateUTC`` form: milliseconds plus ``+0000``."""
    return f"/Date({to_ms(moment)}+0000)/"


def ms_envelope(moment: datetime) -> str:
    """The envelope's ``DateTimeUTC`` carries no offset in the recordings."""
    return f"/Date({to_ms(moment)})/"


@functools.lru_cache(maxsize=8192)
def iso_date_string(day: date) -> str:
    """``DateString`` copy: local midnight without offset, e.g. ``2026-04-16T00:00:00``."""
    return f"{day.isoformat()}T00:00:00"


def history_string(moment: datetime) -> str:
    """``DateUTCString`` as in the spec's HistoryRecords examples."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def parse_body_date(value: object) -> date:
    """Accept ``/Date(ms[+zzzz])/``, ``YYYY-MM-DD`` or an ISO datetime.

    The millisecond count is UTC by definition; the optional offset is only a
    display hint, so it is ignored when taking the calendar day.
    """
    if not isinstance(value, str):
        raise DateParseError(f"Invalid date value {value!r}")
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return from_ms(int(match.group("ms"))).date()
    if _ISO_DATE.match(text):
        year, month, day = (int(p) for p in text.split("-"))
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise DateParseError(f"Invalid date value {value!r}") from exc
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateParseError(f"Invalid date value {value!r}") from exc
    return parsed.date()


def parse_if_modified_since(value: str) -> datetime:
    """Parse the header the way Xero tolerates it.

    xero-python sends ``datetime.isoformat()`` (offset present for aware values,
    absent for naive ones, which Xero treats as UTC); other clients send
    RFC 1123 dates.  Both are accepted.
    """
    text = value.strip()
    if not text:
        raise DateParseError("empty If-Modified-Since")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise DateParseError(f"Invalid If-Modified-Since {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def truncate_ms(moment: datetime) -> datetime:
    """Xero keeps millisecond precision; comparisons must use the stored value."""
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
