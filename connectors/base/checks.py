"""The value checks every record and action runs on construction.

A record that crosses the protocol with naive times or float money would corrupt the store
quietly, so construction refuses it; records and actions share these two checks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


def require_utc(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
