"""``policies.terms``: the invoice's payment terms, generated from the policy the engine
runs. A change in the policy changes the text; every step and fee is stated."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import policies.terms as terms_mod
from policies import PolicyConfig, available_policies, preset_policies, resolve_policies
from policies.kinds.registry import kind
from policies.schema import FeeKind
from policies.terms import payment_terms
from policies.terms_format import TermsFormat, UnknownLocale, days_words

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
GB = TermsFormat.for_locale("en_GB")

BASE: dict[str, Any] = {
    "steps": [
        {"id": "r", "days": 3, "actions": [{"kind": "email", "template": "r"}]},
        {
            "id": "fee",
            "days": 10,
            "actions": [
                {"kind": "email", "template": "f"},
                {"kind": "late_fee", "fee": "fixed"},
            ],
        },
        {"id": "end", "days": 40, "actions": [{"kind": "escalate", "level": "collections"}]},
    ],
    "fees": {"fixed": {"kind": "fixed", "amount": {"GBP": "25", "EUR": "30"}}},
    "fee_cap": {"amount": {"GBP": "60", "EUR": "70"}},
}


def policy(**changes: Any) -> PolicyConfig:
    raw = {**BASE, **changes}
    return resolve_policies({"p": raw})["p"]


def text(p: PolicyConfig, locale: str = "en_GB") -> str:
    return payment_terms("p", p, TermsFormat.for_locale(locale)).text


def with_fee(**fee: Any) -> PolicyConfig:
    return policy(fees={"fixed": {"kind": "fixed", "amount": {"GBP": "25", "EUR": "30"}, **fee}})


def test_base_text_states_steps_fee_cap_and_escalation() -> None:
    t = text(policy())
    assert t.startswith("Payment is due by the due date shown on this invoice.")
    assert "3 days after the due date: we email you a payment reminder." in t
    assert "a late payment fee of €30.00 or £25.00 by the invoice's currency" in t
    assert "is charged 10 days after the due date" in t
    assert "never exceed €70.00 or £60.00 by the invoice's currency" in t
    assert "40 days after the due date: the account is referred to collections" in t
    assert "Statutory interest" not in t and "Late Payment" not in t


@pytest.mark.parametrize(
    ("changed", "expect"),
    [
        (with_fee(amount={"GBP": "35", "EUR": "30"}), "£35.00"),
        (with_fee(grace_days=5), "is charged 15 days after the due date"),
        (with_fee(max="20"), "at most 20 in the invoice's currency a charge"),
        (policy(fee_cap={"percent_of_total": "12.5"}), "never exceed 12.5% of the invoice total"),
        (
            policy(
                steps=[
                    {**BASE["steps"][0], "days": 5},
                    *BASE["steps"][1:],
                ]
            ),
            "5 days after the due date: we email you a payment reminder.",
        ),
        (
            policy(interest={"regime": "uk"}),
            "Late Payment of Commercial Debts (Interest) Act 1998",
        ),
        (policy(interest={"regime": "eu", "margin_points": 9}), "Directive 2011/7/EU"),
    ],
)
def test_a_change_in_the_policy_changes_the_text(changed: PolicyConfig, expect: str) -> None:
    before = text(policy())
    after = text(changed)
    assert after != before
    assert expect in after
    assert expect not in before


def test_interest_regimes_are_worded_for_business_customers_with_their_compensation() -> None:
    uk = text(policy(interest={"regime": "uk"}))
    assert "If you are a business" in uk and "not claimed from consumers" in uk
    assert "£40.00 for a debt under £1,000.00, £70.00 under £10,000.00 and £100.00" in uk
    assert "8% a year above the Bank of England base rate" in uk
    eu = text(policy(interest={"regime": "eu", "margin_points": 9, "compensation": False}))
    assert "9% a year above the European Central Bank" in eu
    assert "€40.00" not in eu and "compensation" not in eu.split("Directive")[1]
    assert "applies to invoices in EUR" in eu


def all_policies() -> dict[str, PolicyConfig]:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return available_policies(resolve_policies(raw.get("policies", {})))


@pytest.mark.parametrize("name", sorted(all_policies()))
def test_every_step_and_fee_of_the_example_config_and_presets_is_stated(name: str) -> None:
    p = all_policies()[name]
    t = payment_terms(name, p, GB).text
    for step in p.steps:
        # a step of internal notes only has nothing to tell the customer
        if any(a.kind != "note" for a in step.actions):
            head = days_words(step.days)
            assert f"{head[0].upper()}{head[1:]}" in t, (name, step.id)
    for fee_name, fee in p.fees.items():
        assert fee_name in {a.fee for s in p.steps for a in s.actions if a.kind == "late_fee"}  # type: ignore[attr-defined]
        if fee.percent is not None:
            assert f"{GB.percent(fee.percent)} of the overdue balance" in t, fee_name
        if fee.kind is FeeKind.PERCENT_PER_PERIOD:
            assert f"every {fee.period}" in t or f"every {fee.every} {fee.period}s" in t
    if p.fee_cap is not None:
        assert "never exceed" in t
    assert ("Late Payment of Commercial Debts" in t) == (
        p.interest is not None and p.interest.regime == "uk"
    )


def test_presets_include_the_firm_and_statutory_wording() -> None:
    presets = preset_policies()
    firm = payment_terms("firm", presets["firm"], GB).text
    assert "2% of the overdue balance plus earlier such charges is made every month" in firm
    assert "never exceed 15% of the invoice total" in firm
    assert "we send you a copy of the invoice" in firm
    assert "Referred to collections" not in firm  # the internal note is not the customer's


def test_money_and_percentages_are_formatted_per_locale_with_the_english_caveat() -> None:
    p = with_fee(amount={"GBP": "1234.5", "EUR": "30"})
    gb = payment_terms("p", p, TermsFormat.for_locale("en_GB"))
    de = payment_terms("p", p, TermsFormat.for_locale("de-DE"))
    fr = payment_terms(
        "p", policy(fee_cap={"percent_of_total": "12.5"}), TermsFormat.for_locale("fr_FR")
    )
    assert "£1,234.50" in gb.text and gb.note is None
    assert "1.234,50\xa0£" in de.text and "30,00\xa0€" in de.text
    assert de.note is not None and "in English" in de.note and "de_DE" in de.note
    assert "12,5%" in fr.text


def test_unknown_locale_is_a_clear_error() -> None:
    with pytest.raises(UnknownLocale, match="unknown locale 'xx_QQ'"):
        TermsFormat.for_locale("xx_QQ")


def test_a_kind_without_terms_is_stated_generically_not_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_terms(name: str) -> Any:
        spec = kind(name)
        return replace(spec, terms=None) if name == "escalate" else spec

    monkeypatch.setattr(terms_mod, "kind", no_terms)
    t = text(policy())
    assert "40 days after the due date: a further collection step (escalate)." in t
