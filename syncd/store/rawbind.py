"""Values converted once, by hand, into what the DBAPI driver stores: no per-row bind processing.

SQLAlchemy's bind processors (``Money``, ``UTCDateTime``, ``Date``, ``JSON``) cost more per
row than the write itself when a backfill stores 100,000 invoices. The hot tables therefore
bind plain driver values prepared here, converted exactly as :mod:`syncd.store.types` and the
SQLite dialect would have done, so that rows written either way are indistinguishable:

* money: a scaled integer (millionths) on SQLite, the ``Decimal`` itself on PostgreSQL;
  more than six decimal places is refused, never rounded;
* timestamps: UTC; on SQLite the naive text SQLAlchemy writes (``YYYY-MM-DD HH:MM:SS.ffffff``,
  which sorts like time, so a stored stamp compares with a new one as text);
* dates: ISO text on SQLite; JSON: its text (``CAST(... AS JSON)`` on PostgreSQL).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .types import MONEY_SCALE


class Binder:
    """Driver values and placeholders for one dialect ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        #: A positional placeholder in the driver's paramstyle (qmark / format).
        self.mark = "?" if self.sqlite else "%s"
        self.json_mark = "?" if self.sqlite else "CAST(%s AS JSON)"

    def money(self, value: Decimal) -> int | Decimal:
        if value.__class__ is Decimal:  # the common case, checked without the general path
            scaled = value.scaleb(MONEY_SCALE)
            whole = int(scaled)
            if whole == scaled:
                return whole if self.sqlite else value
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be Decimal, got {type(value).__name__}")
        scaled = Decimal(value).scaleb(MONEY_SCALE)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"money {value} has more than {MONEY_SCALE} decimal places")
        return int(scaled) if self.sqlite else Decimal(value)

    def stamp(self, value: datetime) -> str | datetime:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        utc = value.astimezone(UTC)
        if self.sqlite:
            return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
        return utc

    def day(self, value: date | None) -> str | date | None:
        if value is None or not self.sqlite:
            return value
        if value.__class__ is date:  # YYYY-MM-DD, zero-padded: what SQLite's DATE type writes
            return value.isoformat()
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"

    @staticmethod
    def json(value: Any) -> str:
        """JSON text as SQLAlchemy's JSON type writes it (``None`` is JSON ``null``)."""
        return json.dumps(value)


def placeholders(binder: Binder, columns: tuple[str, ...], json_columns: frozenset[str]) -> str:
    return ", ".join(binder.json_mark if c in json_columns else binder.mark for c in columns)
