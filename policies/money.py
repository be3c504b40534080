"""Money as ``Decimal`` plus an ISO 4217 code, rounded to the currency's minor unit.

Floats never appear: a late fee that is off by a penny is a support ticket, and
binary floating point cannot represent most decimal amounts. Rounding uses
ROUND_HALF_UP because that is what invoices and statements conventionally show
(and what customers check by hand); caps are rounded *down* so that a rounded
cap can never be exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from babel.numbers import get_currency_precision, list_currencies

ZERO = Decimal(0)


@cache
def known_currencies() -> frozenset[str]:
    """ISO codes Babel knows; used to reject typos such as ``"GPB"`` at config time."""
    return frozenset(list_currencies())


def is_known_currency(code: str) -> bool:
    return code in known_currencies()


@lru_cache(maxsize=256)
def minor_unit(currency: str) -> Decimal:
    """The quantum of the currency (``0.01`` for GBP, ``1`` for JPY), from Babel's CLDR data."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (the convention on invoices)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def round_down_money(amount: Decimal, currency: str) -> Decimal:
    """Round towards zero; for limits, so that a rounded cap is never above the true cap."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, always already rounded to the minor unit."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(round_money(Decimal(amount), currency), currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
