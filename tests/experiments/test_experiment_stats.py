"""The experiment report's statistics against published and hand-computed figures."""

from __future__ import annotations

import math

import pytest

from syncd.experiments.stats import newcombe, t_quantile, welch, wilson


@pytest.mark.parametrize(
    ("df", "expected"),
    # Student's t table, two-sided 95 %
    [(1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (30, 2.042), (120, 1.980)],
)
def test_t_quantile_matches_the_printed_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-4)


def test_newcombe_matches_the_papers_worked_example() -> None:
    # Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10
    ci = newcombe(56, 70, 48, 80)
    assert ci is not None
    assert ci.estimate == pytest.approx(0.2)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.0524, 0.3339)
    assert not ci.spans_zero


def test_wilson_by_hand() -> None:
    # 8/10: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10), half-width z*sqrt(...)/denom
    z = 1.959963984540054
    denom = 1 + z * z / 10
    centre = (0.8 + z * z / 20) / denom
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / denom
    ci = wilson(8, 10)
    assert ci is not None
    assert (ci.low, ci.high) == pytest.approx((centre - half, centre + half))
    assert (round(ci.low, 3), round(ci.high, 3)) == (0.490, 0.943)
    assert wilson(0, 0) is None


def test_welch_by_hand() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    # means 2.5 and 6; variances 5/3 and 10; se^2 = 5/12 + 2
    se2 = 5 / 12 + 2
    df = se2**2 / ((5 / 12) ** 2 / 3 + 2**2 / 4)
    assert df == pytest.approx(5.5208, abs=1e-4)
    ci = welch(a, b)
    assert ci is not None
    assert ci.estimate == pytest.approx(-3.5)
    # t(0.975, 5.52) lies between the table's 2.571 (df 5) and 2.447 (df 6)
    half = ci.high - ci.estimate
    assert 2.447 * math.sqrt(se2) < half < 2.571 * math.sqrt(se2)
    assert ci.spans_zero
    assert welch([1.0], b) is None
    assert welch([3.0, 3.0], [3.0, 3.0]) is None
