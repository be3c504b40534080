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

import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .types import money_value, utc_value


class Binder:
    """Driver values and placeholders for one dialect ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        #: A positional placeholder in the driver's paramstyle (qmark / format).
        self.mark = "?" if self.sqlite else "%s"
        #: An amount's driver value (see :func:`money_value`), without a Python frame of ours
        #: in between: a backfill converts every amount of every invoice here.
        self.money: Callable[[Decimal], int | Decimal] = functools.partial(
            money_value, sqlite=self.sqlite
        )

    def stamp(self, value: datetime) -> str | datetime:
        utc = utc_value(value)
        if self.sqlite:
            # The naive text SQLite's DATETIME writes: an aware UTC stamp's ISO text, cut
            # before its "+00:00" (cheaper than building a naive copy first).
            return utc.isoformat(" ", "microseconds")[:26]
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
