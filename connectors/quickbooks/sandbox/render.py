"""A stored row as wire bytes, for the first serving of a row (later ones reuse the bytes).

``money.dumps`` (the stdlib encoder, calling back into Python for every Decimal) cost more
CPU to encode a 1,000-invoice page than ``json.loads`` spends reading it, and a backfill serves
every row once. ``msgspec`` encodes the same tree several times faster and writes exactly the
bytes ``dumps(row).encode("utf-8")`` writes - same key order, separators, string escapes (every
code point checked) and integers - except for numbers:

* Decimals: formatted here by ``wire_number`` (once per distinct value: equal Decimals always
  format alike), which gives an int or a float. A float outside ``[1e-4, 1e16)`` (where
  ``repr`` switches to exponent notation and msgspec does not, or does differently) or not
  finite is refused, and the row takes the reference path.
* Floats already in the tree (a client's number copied into a custom field): msgspec cannot be
  asked about them, so its output is checked instead. Every float msgspec writes differently
  from ``repr`` comes out as ``null`` (not finite), in exponent form (a number token with an
  ``e``) or as ``0.0000…`` (small positional form); a row whose bytes contain any of these - in
  a number or, harmlessly, in a string or a JSON ``null`` - is encoded again by the reference.

Stored payloads are JSON trees (see :mod:`.jsontree`); for anything else msgspec might accept
what ``dumps`` refuses, which is why only those leaves are ever stored. The test
``test_qbsandbox_render`` holds both encoders to the same bytes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec

from .money import dumps, wire_number

#: Distinct Decimal values formatted so far; cleared when it grows past the bound.
_NUMBERS: dict[Decimal, int | float] = {}
_NUMBERS_BOUND = 1 << 16
#: Where ``repr`` (and so ``dumps``) writes a float positionally; msgspec agrees inside it.
_POSITIONAL = (1e-4, 1e16)
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
#: A number in exponent form once every digit is a 0 (``:0.0e00``: it follows ``:``, ``,`` or
#: ``[``), searched for in the reversed bytes, where the pattern starts with a literal and the
#: search skips ahead to each ``e0`` instead of trying every position.
_EXPONENT_REVERSED = re.compile(rb"e0[0.]*-?[:,\[]")


class _NotPositional(ValueError):
    """A Decimal whose wire form msgspec would write differently: use the reference."""


def wire_value(value: Decimal) -> int | float:
    """``wire_number(value)``, remembered; refused when msgspec would not write it alike."""
    try:
        return _NUMBERS[value]
    except KeyError:
        pass
    number = wire_number(value)
    if type(number) is float and number != 0:
        low, high = _POSITIONAL
        if not low <= abs(number) < high:  # also refuses NaN and infinities
            raise _NotPositional(str(value))
    if len(_NUMBERS) >= _NUMBERS_BOUND:
        _NUMBERS.clear()
    _NUMBERS[value] = number
    return number


_FAST = msgspec.json.Encoder(decimal_format=wire_value)


def reference_bytes(row: Any) -> bytes:
    return dumps(row).encode("utf-8")


def _doubtful(data: bytes) -> bool:
    """Whether ``data`` may hold a float msgspec writes differently from ``repr``."""
    if b"null" in data or b"0.0000" in data:
        return True
    digits = data.translate(_DIGITS)
    return b"0e" in digits and _EXPONENT_REVERSED.search(digits[::-1]) is not None


def _encoded(row: Any) -> bytes | None:
    try:
        return _FAST.encode(row)
    except Exception:  # any doubt: the reference decides (and raises as it always did)
        return None


def row_bytes(row: dict[str, Any]) -> bytes:
    """Exactly ``dumps(row).encode("utf-8")``, several times cheaper for a typical row."""
    data = _encoded(row)
    return reference_bytes(row) if data is None or _doubtful(data) else data


def rows_bytes(rows: list[dict[str, Any]]) -> list[bytes]:
    """``[row_bytes(row) for row in rows]``, with the checks run once over all the rows'
    bytes (a page's worth) and row by row only when that finds something."""
    found = [_encoded(row) for row in rows]
    # Joined by a byte no encoding holds (msgspec escapes it), so no match spans two rows.
    suspect = _doubtful(b"\x00".join(data for data in found if data is not None))
    return [
        reference_bytes(row) if data is None or (suspect and _doubtful(data)) else data
        for row, data in zip(rows, found, strict=True)
    ]
