"""Judging one value of a Xero record: timestamps, dates, money, text, currency codes.

Values arrive as whatever JSON held (a string, an ``int``, a ``Decimal`` read from the
number's text) or as what xero-python's models hold (``Decimal``, ``date``, ``datetime``);
each reader accepts what Xero can mean and raises :class:`MappingError` with a human reason
for anything else, which the connector turns into a skipped record.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2})?(\d{2})?\)/$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Larger amounts are refused: no small business invoices a trillion, and the store keeps
#: money as micro-units in a 64-bit integer on SQLite (about 9.2 * 10^12 at most).
AMOUNT_LIMIT = Decimal(10) ** 12


class MappingError(ValueError):
    pass


def _ms(match: re.Match[str]) -> tuple[datetime, timedelta]:
    instant = _EPOCH + timedelta(milliseconds=int(match.group(1)))
    offset = timedelta()
    if match.group(2):
        sign = -1 if match.group(2).startswith("-") else 1
        hours, minutes = abs(int(match.group(2))), int(match.group(3) or 0)
        offset = sign * timedelta(hours=hours, minutes=minutes)
    return instant, offset


def parse_datetime(value: Any, field: str = "UpdatedDateUTC") -> datetime:
    """``/Date(1731582714025+0000)/`` or ISO 8601; Xero's UTC fields come without an offset."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        found = _timestamp_text(value)
        if found is None:
            raise MappingError(f"{field} is not a Xero timestamp: {value!r}")
        return found
    else:
        raise MappingError(f"{field} is missing")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _timestamp_text(value: str) -> datetime | None:
    """A timestamp's text to UTC, or None; cached: a page repeats the same dates often."""
    match = _MS_DATE.match(value.strip())
    if match:
        try:
            return _ms(match)[0]
        except OverflowError:  # a count of milliseconds beyond year 9999
            return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any, field: str) -> date | None:
    """A calendar date; ``/Date(ms+zone)/`` is read in its own zone (Xero sends midnight)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        found = _date_text(value)
        if found is not None:
            return found
    raise MappingError(f"{field} is not a date: {value!r}")


@functools.lru_cache(maxsize=4096)
def _date_text(value: str) -> date | None:
    match = _MS_DATE.match(value.strip())
    if match:
        try:
            instant, offset = _ms(match)
            return (instant + offset).date()
        except OverflowError:  # a count of milliseconds beyond year 9999
            return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def amount(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    """An exact amount of money, or the reason it is not one."""
    if value is None:
        if default is not None:
            return default
        raise MappingError(f"{field} is missing")
    if isinstance(value, bool | float):
        # A float has already lost the exact amount; refuse rather than guess.
        raise MappingError(f"{field} arrived as {type(value).__name__}; decimals are required")
    try:
        found = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise MappingError(f"{field} is not a number: {value!r}") from None
    if not found.is_finite():
        raise MappingError(f"{field} is not a finite number: {value!r}")
    if abs(found) >= AMOUNT_LIMIT:
        raise MappingError(f"{field} {found} is beyond any amount syncd accepts (10^12)")
    return found


def money(raw: Mapping[str, Any], field: str, default: Decimal | None = None) -> Decimal:
    """``raw[field]`` as :func:`amount` reads it (for callers holding a record as a dict)."""
    return amount(raw.get(field), field, default)


def text(value: Any) -> str | None:
    if value is None:
        return None
    found = str(value).strip()
    return found or None


def require_id(value: Any, field: str) -> str:
    found = text(value)
    if found is None:
        raise MappingError(f"{field} is missing")
    return found


@functools.cache
def _iso_4217() -> frozenset[str]:
    """Read when the first currency is checked, not when the module is imported."""
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return bool(_CURRENCY.match(code)) and code in _iso_4217()


def currency(code: Any, home_currency: str | None, field: str = "CurrencyCode") -> str:
    found = text(code) or home_currency
    if found is None:
        raise MappingError(f"{field} is missing and no home_currency is configured")
    if not is_currency(found):
        raise MappingError(f"{field} is not an ISO 4217 currency code: {found!r}")
    return found
