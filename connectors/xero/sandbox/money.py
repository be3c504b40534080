"""Money arithmetic and the organisation's tax rates.

Amounts are ``Decimal`` end to end; the only conversion to a JSON number
happens in :func:`json_number`, at the wire, because Xero sends plain JSON
numbers (``541.25``, ``0``) rather than strings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

HOME_CURRENCY = "NZD"

# Rates are "units of foreign currency per 1 NZD", which is how Xero's
# CurrencyRate reads on a multi-currency invoice.
CURRENCY_RATES: dict[str, Decimal] = {
    "NZD": Decimal("1"),
    "AUD": Decimal("0.9180"),
    "USD": Decimal("0.5975"),
    "GBP": Decimal("0.4712"),
    "EUR": Decimal("0.5521"),
}

# NZ GST codes as in a New Zealand Xero organisation.
TAX_RATES: dict[str, Decimal] = {
    "OUTPUT2": Decimal("0.15"),  # GST on Income
    "INPUT2": Decimal("0.15"),  # GST on Expenses
    "NONE": Decimal("0"),  # No GST
    "ZERORATEDOUTPUT": Decimal("0"),  # Zero Rated (exports)
    "EXEMPTOUTPUT": Decimal("0"),
    "EXEMPTINPUT": Decimal("0"),
}

SALES_TAX_TYPES = frozenset({"OUTPUT2", "NONE", "ZERORATEDOUTPUT", "EXEMPTOUTPUT"})
PURCHASE_TAX_TYPES = frozenset({"INPUT2", "NONE", "EXEMPTINPUT"})


def cents(value: Decimal) -> Decimal:
    # Positional arguments: called hundreds of thousands of times while seeding.
    return value.quantize(CENT, ROUND_HALF_UP)


class ExactFloat(float):
    """A float whose text only ``json`` writes as ``repr`` does: a record's text is encoded
    with orjson (:func:`.errors.record_dumps`), which writes ``0.00001`` where ``repr`` gives
    ``1e-05`` and ``null`` for NaN, and refuses a float subclass, so the text falls back to
    ``json``, byte for byte as before."""


def json_number(value: Decimal) -> int | float:
    """Render like Xero: integral values without a fraction, others as decimals.

    ``float(Decimal)`` of a 2-4 dp amount round-trips exactly through
    ``repr``, so the JSON text shows the same digits as the Decimal.
    """
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if 1e-4 <= abs(number) < 1e16:  # orjson writes these as repr does (NaN fails too)
        return number
    return ExactFloat(number)


def text(value: Decimal) -> str:
    """Decimal string for the control API's truth (never a float)."""
    return str(cents(value))
