"""The comparison's verdict in plain words, and its HTML fragment for the report."""

from __future__ import annotations

from statistics import fmean

import pytest

from syncd.experiments.html import comparison_html
from syncd.experiments.report import ArmData, compare
from syncd.experiments.stats import newcombe


def test_enough_data_and_a_clear_difference_is_said_with_its_interval() -> None:
    control = ArmData(customers=20, invoices=60, days_to_payment=[10.0, 12.0] * 20)
    candidate = ArmData(customers=18, invoices=50, days_to_payment=[5.0, 7.0] * 20)
    c = compare("q4", control, candidate)
    assert c.days_difference is not None
    assert c.days_difference.estimate == pytest.approx(fmean([5, 7]) - fmean([10, 12]))
    assert c.days_difference.high < 0
    assert c.collected_difference == newcombe(40, 50, 40, 60)
    assert c.verdict.startswith("The candidate is paid 5.0 days faster on average")
    assert "share collected" in c.verdict
    d = c.to_dict()
    assert d["arms"]["candidate"]["share_collected"] == pytest.approx(0.8)
    assert d["arms"]["control"]["median_days_to_payment"] == 11.0
    html = comparison_html(c)
    assert html.count("<tr>") == 3 and "80.0%" in html and "66.7%" in html


def test_too_few_paid_invoices_says_it_cannot_tell() -> None:
    control = ArmData(customers=5, invoices=40, days_to_payment=[3.0] * 29)
    candidate = ArmData(customers=5, invoices=40, days_to_payment=[1.0, 2.0] * 20)
    c = compare("q4", control, candidate)
    assert c.verdict == (
        "Not enough data to tell: fewer than 30 paid invoices in the control arm "
        "(control 29, candidate 40 paid)."
    )


def test_an_interval_spanning_zero_is_called_chance() -> None:
    same = [1.0, 9.0, 4.0, 6.0] * 10
    c = compare("q4", ArmData(9, 50, same), ArmData(9, 50, list(reversed(same))))
    assert c.verdict == (
        "Days to payment: no difference can be told apart from chance; "
        "share collected: no difference can be told apart from chance."
    )
