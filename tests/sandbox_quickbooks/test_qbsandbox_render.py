"""The fast row encoder writes exactly the bytes of the reference (``money.dumps``), or hands
the row to the reference: for every JSON tree a stored payload can hold, including the numbers
the two encoders write differently (exponent forms, tiny and huge values, NaN, infinities,
non-normalised and signalling Decimals) and every string escape."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.quickbooks.sandbox.money import dumps
from connectors.quickbooks.sandbox.render import row_bytes, rows_bytes

_DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2),
    st.integers(-(10**30), 10**30).map(lambda n: Decimal(n).scaleb(-8)),
    st.sampled_from(
        [Decimal("1E+2"), Decimal("-0.00"), Decimal("0.00001"), Decimal("1E-7"), Decimal("sNaN")]
    ),
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    _DECIMALS,
)
_TREES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(), inner)),
    max_leaves=30,
)


def _reference(tree: Any) -> bytes | type[BaseException]:
    try:
        return dumps(tree).encode("utf-8")
    except Exception as exc:  # the reference refuses (a signalling NaN): the fast one must too
        return type(exc)


def _fast(tree: Any) -> bytes | type[BaseException]:
    try:
        return row_bytes({"row": tree})[len(b'{"row":') : -1]
    except Exception as exc:
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(_TREES)
def test_any_json_tree_encodes_to_the_reference_bytes(tree: Any) -> None:
    assert _fast(tree) == _reference(tree)


@settings(max_examples=150, deadline=None)
@given(st.lists(_TREES, max_size=6))
def test_a_page_of_rows_encodes_row_by_row_to_the_reference_bytes(trees: list[Any]) -> None:
    """Checked together (one scan of the page), rows still fall back one by one."""
    rows = [{"row": tree} for tree in trees] + [{"plain": "00209e87", "n": 1}]
    expected = [_reference(row) for row in rows]
    if any(not isinstance(data, bytes) for data in expected):
        with pytest.raises(Exception):  # noqa: B017 - whichever the reference raises
            rows_bytes(rows)
        return
    assert rows_bytes(rows) == expected


@pytest.mark.parametrize(
    "value",
    [
        1e-5,
        -2.5e-8,
        1e16,
        -1.5e300,
        9.999e15,
        1e-4,
        5e-324,
        sys.float_info.max,
        float("nan"),
        float("inf"),
        0.0,
        -0.0,
        Decimal("NaN"),
        Decimal("-Infinity"),
        Decimal("12.50"),
        Decimal("1E+20"),
        Decimal("0.0001"),
        Decimal("0.00009"),
        2**70,
        "0e5 null 0.00001 \u2028 \x00 \x7f \ud7ff \U0010ffff",
        {"hex": "00209e873a", "n": 3},
    ],
)
def test_numbers_and_strings_the_encoders_disagree_on(value: Any) -> None:
    assert _fast(value) == _reference(value)
    assert _fast([value, {"k": value}]) == _reference([value, {"k": value}])


def test_a_lone_surrogate_is_refused_as_the_reference_refuses_it() -> None:
    assert _fast("\ud800") is UnicodeEncodeError
    assert _reference("\ud800") is UnicodeEncodeError
