"""The mapper's field readers: timestamps, dates, money and text, each with its reason.

Every reader raises :class:`MappingError` with a human reason when a value cannot be trusted;
the page builder turns that into a skipped record. They run a few times for every record of a
backfill, so the common case of each is decided first, in as few Python steps as possible,
and anything unusual goes through the full check that words the reason.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

#: Amounts at or beyond this are corrupt data, and would not fit the store's money columns.
MAX_AMOUNT = Decimal(10) ** 12
#: The store keeps six decimal places; QBO money has two.
MAX_DECIMALS = 6
UPDATED = "MetaData.LastUpdatedTime"


class MappingError(ValueError):
    pass


# -- timestamps --------------------------------------------------------------------------------
#
# QuickBooks sends ``2026-05-05T02:11:27-07:00``: the company's offset, whole seconds. Parsing
# one (fromisoformat, then astimezone to UTC) costs about 2 us, and a backfill's stamps are
# nearly all distinct. They share their hour, though (a 100,000-invoice company has ten times
# fewer distinct date-hour-offset prefixes than stamps): the UTC instant of the hour is cached,
# and the minutes and seconds, the same in UTC for any offset, are added as a cached timedelta.

#: Whole texts already parsed (bulk edits stamp many records alike; cursors, server times).
_TIMES: dict[str, datetime] = {}
#: ``YYYY-MM-DDTHH`` + ``±HH:MM`` -> that hour's start in UTC, for stamps of the usual form.
_HOURS: dict[str, datetime] = {}
#: ``:MM:SS`` -> its offset into the hour; only valid minutes and seconds are keys.
_INTO_HOUR = {
    f":{m:02d}:{s:02d}": timedelta(minutes=m, seconds=s) for m in range(60) for s in range(60)
}
_DATES: dict[str, date] = {}
#: Entries per cache; a full cache is emptied, like a bounded cache but cheaper to consult.
_CACHED = 16384


def parse_time(value: Any, field: str = UPDATED) -> datetime:
    """QuickBooks timestamps carry the company's offset; the result is in UTC."""
    if value.__class__ is str and len(value) == 25:
        into = _INTO_HOUR.get(value[13:19])
        if into is not None:
            hour = _HOURS.get(value[:13] + value[19:])
            if hour is not None:
                return hour + into
    return _parsed_time(value, field)


def _parsed_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field} is missing")
    found = _TIMES.get(value)
    if found is not None:
        return found
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} is not an ISO timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} has no UTC offset: {value!r}")
    found = parsed.astimezone(UTC)
    into = _INTO_HOUR.get(value[13:19]) if len(value) == 25 else None
    if into is not None and _usual(key := value[:13] + value[19:]):
        # Parsed whole above, so its date, hour and offset are valid; any other stamp with
        # the same ones and valid minutes and seconds is this hour plus those.
        if len(_HOURS) >= _CACHED:
            _HOURS.clear()
        _HOURS[key] = found - into
        return found
    if len(_TIMES) >= _CACHED:
        _TIMES.clear()
    _TIMES[value] = found
    return found


def _usual(key: str) -> bool:
    """``YYYY-MM-DDTHH±HH:MM`` in ASCII digits: the layout in which the hour cache's
    arithmetic holds (checked once per hour, so strictly)."""
    digits = key[:4] + key[5:7] + key[8:10] + key[11:13] + key[14:16] + key[17:]
    layout = key[4] == key[7] == "-" and key[10] == "T" and key[13] in "+-" and key[16] == ":"
    return layout and len(digits) == 14 and digits.isascii() and digits.isdigit()


def date_of(value: str | None, field: str) -> date | None:
    """A date (its first ten characters), or None when absent or empty."""
    if value is None or value == "":
        return None
    found = _DATES.get(value)
    return found if found is not None else _parsed_date(value, field)


def _parsed_date(value: str, field: str) -> date:
    try:
        parsed = date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MappingError(f"{field} is not a date: {value!r}") from None
    if len(_DATES) >= _CACHED:
        _DATES.clear()
    _DATES[value] = parsed
    return parsed


# -- money -------------------------------------------------------------------------------------


def money(value: Decimal | None, field: str, default: Decimal | None = None) -> Decimal:
    # Money as Intuit sends it has 0, 1 or 2 decimal places: an exponent test and a magnitude
    # test (C calls of a few ns) accept it; anything else gets the full check with its reason.
    if value is not None:
        same = value.same_quantum  # false for NaN and infinities
        if (same(_ONE) or same(_CENT) or same(_TENTH)) and value.adjusted() < _MAX_ADJUSTED:
            return value
    return _checked_money(value, field, default)


def amount(value: Decimal | None, field: str, default: Decimal | None = None) -> Decimal:
    """Money that must not be negative (totals, balances): ``not_negative(money(...))``."""
    if value is not None and not value.is_signed():  # signed: negative, or -0 (allowed)
        same = value.same_quantum
        if (same(_ONE) or same(_CENT) or same(_TENTH)) and value.adjusted() < _MAX_ADJUSTED:
            return value
    return not_negative(_checked_money(value, field, default), field)


def _checked_money(value: Decimal | None, field: str, default: Decimal | None) -> Decimal:
    if value is None:
        if default is not None:
            return default
        raise MappingError(f"{field} is missing")
    if not value.is_finite():
        raise MappingError(f"{field} is not a finite number: {value!r}")
    if not -MAX_AMOUNT < value < MAX_AMOUNT:
        raise MappingError(f"{field} {value} is beyond any real invoice (10^12 or more)")
    if value != _TRUNCATING.quantize(value, _QUANTUM):
        raise MappingError(f"{field} {value} has more than {MAX_DECIMALS} decimal places")
    return value


_ONE, _TENTH, _CENT = Decimal(1), Decimal("0.1"), Decimal("0.01")
ZERO = Decimal(0)
#: A finite Decimal whose adjusted exponent is below 12 is below 10^12 in magnitude.
_MAX_ADJUSTED = MAX_AMOUNT.adjusted()
_QUANTUM = Decimal(1).scaleb(-MAX_DECIMALS)
#: Context.quantize takes no keyword to parse: a third cheaper than Decimal.quantize(rounding=).
_TRUNCATING = Context(rounding=ROUND_DOWN)


def not_negative(value: Decimal, field: str) -> Decimal:
    if value.is_signed() and value < 0:  # is_signed alone is true for -0
        raise MappingError(f"{field} is negative ({value}); QuickBooks never sends that")
    return value


# -- text --------------------------------------------------------------------------------------


def clean_text(value: Any) -> str:
    """Names and numbers as sent, minus control characters (a NUL byte breaks PostgreSQL).
    HTML and Unicode stay: escaping is the email renderer's job, not the mapper's."""
    text = str(value)
    if text.isprintable():  # no control character at all: the common case, decided in C
        return text.strip()
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc").strip()
