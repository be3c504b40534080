"""Column types that keep money exact and times in UTC on every backend.

SQLite has no decimal type: a ``Numeric`` column there stores a binary float. Money is therefore
kept as a scaled integer (millionths) on SQLite, which compares, sorts and sums exactly in SQL,
and as ``NUMERIC(20, 6)`` elsewhere. Either way Python code only ever sees ``Decimal``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_SCALE = 6
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def money_value(value: Any, sqlite: bool) -> int | Decimal:
    """The driver value of an amount: millionths on SQLite, the Decimal elsewhere.

    Shared by :class:`Money` and the bulk writer (:mod:`syncd.store.rawbind`), so that both
    refuse the same amounts; the exact-Decimal case is checked first because the bulk writer
    converts every amount of a backfill here. More than six places is refused, never rounded.
    """
    if value.__class__ is Decimal and value.is_finite():
        scaled = value.scaleb(MONEY_SCALE)
        whole = int(scaled)
        if whole == scaled:
            return whole if sqlite else value
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be Decimal, got {type(value).__name__}")
    amount = Decimal(value)
    if amount != amount.quantize(_QUANTUM):
        raise ValueError(f"money {amount} has more than {MONEY_SCALE} decimal places")
    return int(amount.scaleb(MONEY_SCALE)) if sqlite else amount


def utc_value(value: Any) -> datetime:
    """An aware timestamp in UTC; naive ones are refused (their zone would be a guess)."""
    if value.__class__ is datetime and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    impl = Numeric(20, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return money_value(value, dialect.name == "sqlite")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE).quantize(_QUANTUM)
        return Decimal(value).quantize(_QUANTUM)


class UTCDateTime(TypeDecorator[datetime]):
    """Accepts only aware datetimes, stores UTC, returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = utc_value(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
