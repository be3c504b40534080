"""Money and wire-number handling.

Amounts live as ``Decimal`` everywhere inside the sandbox so that balances reconcile to the cent.
QBO renders amounts as JSON numbers (``275``, ``12.75``, ``629.1``); converting to ``int``/``float``
happens only at the serialisation boundary, where a value with at most 15 significant digits
round-trips exactly through ``float``'s shortest repr.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    """A value that should be an amount is not a number."""


def money(value: Any) -> Decimal:
    """Parse a wire value (int, float, str, Decimal) to a cent-quantised Decimal."""
    if type(value) is Decimal:
        dec = value
    elif isinstance(value, bool):
        raise MoneyError(f"not an amount: {value!r}")
    elif isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, float):
        dec = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {value!r}") from exc
    else:
        raise MoneyError(f"not an amount: {value!r}")
    if not dec.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    return dec.quantize(CENT, ROUND_HALF_UP)  # positional: no keyword parsing per amount


def quantity(value: Any) -> Decimal:
    """Parse a quantity or unit price: QBO keeps more precision there than on amounts."""
    if type(value) is Decimal:
        return value  # what Decimal(str(value)) gives: str is exact
    if isinstance(value, bool):
        raise MoneyError(f"not a number: {value!r}")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not a number: {value!r}") from exc


def wire_number(value: Decimal) -> int | float:
    """Render a Decimal the way QBO does: no trailing zeros, integral values without a point."""
    normalised = value.normalize()
    if normalised == normalised.to_integral_value():
        return int(normalised)
    return float(normalised)


def _wire_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return wire_number(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


#: Payloads are trees, never cyclic: skipping the encoder's cycle check saves a tenth of the
#: time of encoding a page.
_ENCODER = json.JSONEncoder(
    default=_wire_default, ensure_ascii=False, separators=(",", ":"), check_circular=False
)


def dumps(obj: Any) -> str:
    """Serialise a payload for the wire (Decimals become JSON numbers, key order preserved).

    The C encoder calls back only for the Decimals, so a page of 1,000 invoices is written
    without first rebuilding every dict in Python.
    """
    return _ENCODER.encode(obj)


def decimal_string(value: Decimal) -> str:
    """Amounts in the control API's truth are exact strings such as ``"12.50"``."""
    return str(value.quantize(CENT))
