"""Statutory interest under the go-live rules, worked by hand: the 30 June / 1 July
boundary, currency and customer-type rules, no backdating, claims stated up to date,
rate-table warnings, and per-step review overrides."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    DunningState,
    InvoiceSnapshot,
    OrgContext,
    PlanResult,
    PolicyConfig,
    available_policies,
    explain_policy,
    plan_cycle,
    resolve_policies,
    simulate,
    validate_settings,
)
from policies.interest import statutory_interest
from policies.schema import InterestConfig, RatesConfig

TZ = ZoneInfo("Europe/London")
# Fictional cuts on 20 Jun and 1 Dec 2024 so that each half-year has its own rate.
RATES: dict[str, Any] = {
    "boe_base": [
        {"since": "2023-08-03", "percent": "5.25"},
        {"since": "2024-06-20", "percent": "5.00"},
        {"since": "2024-12-01", "percent": "4.75"},
    ],
    "ecb_refi": [{"since": "2023-09-20", "percent": "4.50"}],
}
SETTINGS = validate_settings({"rates": RATES})
UK = InterestConfig(regime="uk")


def debt(
    due: date, amount: str = "10000", currency: str = "GBP", customer: str = "c1"
) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id="i1",
        number="INV-1",
        customer_id=customer,
        currency=currency,
        issue_date=due - timedelta(days=30),
        due_date=due,
        total=Decimal(amount),
        balance=Decimal(amount),
    )


def at(d: date) -> datetime:
    return datetime.combine(d, time(10), tzinfo=TZ)


def test_30_june_debt_takes_the_next_half_years_rate() -> None:
    rates = RatesConfig.model_validate(RATES)
    # due 29 Jun 2024: interest runs from 30 Jun, in H1 -> rate on 31 Dec 2023 = 5.25 + 8.
    # 30 Jun - 30 Jul = 31 days: 10,000 x 13.25% x 31 / 365 = 41,075 / 365 = 112.534 -> 112.53
    june29 = statutory_interest(
        UK, rates, debt(date(2024, 6, 29)), date(2024, 6, 29), date(2024, 7, 30)
    )
    assert (june29.days, june29.amount) == (31, Decimal("112.53"))
    assert "13.25%" in june29.explanation
    # due 30 Jun 2024: interest runs from 1 Jul, in H2 -> rate on 30 Jun 2024 = 5.00 + 8.
    # 1 - 31 Jul = 31 days: 10,000 x 13% x 31 / 365 = 40,300 / 365 = 110.410 -> 110.41
    june30 = statutory_interest(
        UK, rates, debt(date(2024, 6, 30)), date(2024, 6, 30), date(2024, 7, 31)
    )
    assert (june30.days, june30.amount) == (31, Decimal("110.41"))
    assert "13.00%" in june30.explanation
    # due 1 Jul 2024: the same H2 rate
    july1 = statutory_interest(
        UK, rates, debt(date(2024, 7, 1)), date(2024, 7, 1), date(2024, 8, 1)
    )
    assert "13.00%" in july1.explanation
    # due 31 Dec 2024: interest runs from 1 Jan 2025 -> rate on 31 Dec 2024 = 4.75 + 8;
    # due 30 Dec: from 31 Dec, H2 2024 -> rate on 30 Jun 2024 = 5.00 + 8
    dec31 = statutory_interest(
        UK, rates, debt(date(2024, 12, 31)), date(2024, 12, 31), date(2025, 1, 10)
    )
    dec30 = statutory_interest(
        UK, rates, debt(date(2024, 12, 30)), date(2024, 12, 30), date(2025, 1, 10)
    )
    assert "12.75%" in dec31.explanation and "13.00%" in dec30.explanation


def claim_at(
    policy: str,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
    on: date,
    *,
    policies: dict[str, PolicyConfig] | None = None,
    go_live: date | None = None,
) -> PlanResult:
    return plan_cycle(
        org=OrgContext("acme", TZ, policy, go_live=go_live),
        policies=policies or available_policies({}),
        settings=SETTINGS,
        as_of=at(on),
        invoices=[DunningInput(invoice, customer)],
    )


def money(result: PlanResult) -> dict[ActionKind, Decimal]:
    return {a.kind: a.amount.amount for a in result.actions if a.amount is not None}


# uk-statutory's claim is on day 14; due Fri 15 Mar 2024 -> Fri 29 Mar (no holidays
# configured): 14 days at 13.25% on 10,000 = 1,325 x 14 / 365 = 50.821 -> 50.82
DUE = date(2024, 3, 15)
CLAIM_DAY = date(2024, 3, 29)


@pytest.mark.parametrize(
    ("customer", "claimed", "held"),
    [
        (CustomerSnapshot("c1", is_business=True), True, False),
        (CustomerSnapshot("c1", groups=frozenset({"business"})), True, False),
        (CustomerSnapshot("c1"), True, True),  # unknown: planned, held for review
        (CustomerSnapshot("c1", is_business=False), False, False),
        (CustomerSnapshot("c1", groups=frozenset({"consumer"})), False, False),
    ],
)
def test_uk_interest_only_for_business_customers(
    customer: CustomerSnapshot, claimed: bool, held: bool
) -> None:
    r = claim_at("uk-statutory", debt(DUE), customer, CLAIM_DAY)
    if claimed:
        assert money(r) == {
            ActionKind.INTEREST: Decimal("50.82"),
            ActionKind.COMPENSATION: Decimal("100.00"),
        }
        reviews = {a.review for a in r.actions if a.amount is not None}
        assert (reviews != {None}) is held
        if held:
            assert "statutory interest is for business debts only" in str(reviews.pop())
    else:
        assert money(r) == {}
        assert any("it is for business debts only" in x for x in r.decisions[0].reasons)


def test_business_default_from_the_policy() -> None:
    own = resolve_policies(
        {"b2b": {"extends": "uk-statutory", "interest": {"business_customers_default": True}}}
    )
    r = claim_at(
        "b2b",
        debt(DUE),
        CustomerSnapshot("c1"),
        CLAIM_DAY,
        policies={**available_policies({}), **own},
    )
    assert money(r)[ActionKind.INTEREST] == Decimal("50.82")
    assert all(a.review is None for a in r.actions)


def test_currency_rules() -> None:
    business = CustomerSnapshot("c1", is_business=True)
    # UK interest on a EUR debt: nothing
    r = claim_at("uk-statutory", debt(DUE, currency="EUR"), business, CLAIM_DAY)
    assert money(r) == {}
    assert any("applies to GBP debts only" in x for x in r.decisions[0].reasons)
    # EU regime: EUR by default, USD only when configured (and no EUR 40 on a USD debt)
    eu = resolve_policies(
        {
            "eu": {"extends": "uk-statutory", "interest": {"regime": "eu"}},
            "eu-usd": {"extends": "eu", "interest": {"currencies": ["EUR", "USD"]}},
        }
    )
    policies = {**available_policies({}), **eu}
    # ECB rate on 1 Jan 2024 = 4.50 + 8 = 12.5%: 10,000 x 12.5% x 14 / 365 = 47.945 -> 47.95
    r = claim_at("eu", debt(DUE, currency="EUR"), business, CLAIM_DAY, policies=policies)
    assert money(r) == {
        ActionKind.INTEREST: Decimal("47.95"),
        ActionKind.COMPENSATION: Decimal("40.00"),
    }
    r = claim_at("eu", debt(DUE, currency="USD"), business, CLAIM_DAY, policies=policies)
    assert money(r) == {}
    r = claim_at("eu-usd", debt(DUE, currency="USD"), business, CLAIM_DAY, policies=policies)
    assert money(r) == {ActionKind.INTEREST: Decimal("47.95")}


def run_daily(
    policy: str,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
    first: date,
    last: date,
    *,
    policies: dict[str, PolicyConfig] | None = None,
    go_live: date | None = None,
) -> list[tuple[date, Any]]:
    state = DunningState()
    out: list[tuple[date, Any]] = []
    d = first
    while d <= last:
        r = plan_cycle(
            org=OrgContext("acme", TZ, policy, go_live=go_live),
            policies=policies or available_policies({}),
            settings=SETTINGS,
            as_of=at(d),
            invoices=[DunningInput(invoice, customer, state)],
        )
        state = r.states.get("i1", state)
        out.extend((d, a) for a in r.actions)
        d += timedelta(days=1)
    return out


def test_no_interest_or_compensation_dated_before_go_live() -> None:
    business = CustomerSnapshot("c1", is_business=True)
    go_live = date(2024, 4, 1)  # Monday; the debt (due 15 Mar) is 17 days overdue then
    # entry on 1 Apr stands for day 1; the claim step (day 14) comes 13 days later, Sun
    # 14 Apr, so Monday 15 Apr. Interest from go-live: 1 - 15 Apr = 15 days:
    # 1,325 x 15 / 365 = 54.452 -> 54.45. Compensation: the debt was late on 16 Mar,
    # before go-live: not claimed.
    actions = run_daily(
        "uk-statutory", debt(DUE), business, go_live, date(2024, 4, 15), go_live=go_live
    )
    charges = [(d, a.kind, a.amount.amount) for d, a in actions if a.amount is not None]
    assert charges == [(date(2024, 4, 15), ActionKind.INTEREST, Decimal("54.45"))]
    assert [(d, a.template) for d, a in actions if a.kind is ActionKind.EMAIL] == [
        (date(2024, 4, 1), "account-summary"),
        (date(2024, 4, 8), "firm-reminder"),  # day 7 = Sun 7 Apr -> Monday
        (date(2024, 4, 15), "statutory-claim"),
    ]
    # backdate_interest = true (riskier): from 16 Mar: 31 days: 1,325 x 31 / 365 =
    # 112.534 -> 112.53, and the GBP 100 compensation
    risky = resolve_policies(
        {"uk-statutory": {"extends": "uk-statutory", "backdate_interest": True}}
    )
    actions = run_daily(
        "uk-statutory",
        debt(DUE),
        business,
        go_live,
        date(2024, 4, 15),
        policies={**available_policies({}), **risky},
        go_live=go_live,
    )
    assert {a.kind: a.amount.amount for _, a in actions if a.amount is not None} == {
        ActionKind.INTEREST: Decimal("112.53"),
        ActionKind.COMPENSATION: Decimal("100.00"),
    }


def test_every_step_that_states_the_claim_states_it_up_to_date() -> None:
    chaser = resolve_policies(
        {
            "uk": {
                "extends": "uk-statutory",
                "steps": [
                    {"id": "chaser", "days": 21, "actions": [{"kind": "email", "template": "c"}]}
                ],
            }
        }
    )
    actions = run_daily(
        "uk",
        debt(DUE),
        CustomerSnapshot("c1", is_business=True),
        CLAIM_DAY,
        date(2024, 4, 5),
        policies={**available_policies({}), **chaser},
    )
    interest = [
        (d, str(a.key), a.amount.amount) for d, a in actions if a.kind is ActionKind.INTEREST
    ]
    # claim on 29 Mar (14 days, 50.82); the day-21 chaser (Fri 5 Apr) brings it up to
    # date: 30 Mar - 5 Apr = 7 days: 1,325 x 7 / 365 = 25.410 -> 25.41
    assert interest == [
        (CLAIM_DAY, "acme:i1:statutory-claim/interest:2024-03-29", Decimal("50.82")),
        (date(2024, 4, 5), "acme:i1:chaser/interest:2024-04-05", Decimal("25.41")),
    ]


def test_warnings_when_the_rates_do_not_cover_the_dates() -> None:
    late_table = validate_settings(
        {"rates": {"boe_base": [{"since": "2024-01-10", "percent": "5"}]}}
    )
    org = OrgContext("acme", TZ, "uk-statutory")
    items = [
        DunningInput(
            InvoiceSnapshot(f"i{k}", f"INV-{k}", "c1", "GBP", DUE, DUE, Decimal(100), Decimal(100)),
            CustomerSnapshot("c1"),
        )
        for k in range(2)
    ]
    r = plan_cycle(
        org=org,
        policies=available_policies({}),
        settings=late_table,
        as_of=at(date(2024, 3, 20)),
        invoices=items,
    )
    assert r.warnings == (
        "policy 'uk-statutory' claims statutory interest, but the rates table boe_base has "
        "no rate in force on 2023-12-31 (needed by 2 invoice(s), e.g. INV-0, INV-1): add "
        "the rate to [rates] boe_base",
    )
    covered = plan_cycle(
        org=org,
        policies=available_policies({}),
        settings=SETTINGS,
        as_of=at(date(2024, 3, 20)),
        invoices=items,
    )
    assert covered.warnings == ()
    sim = simulate(
        org=org,
        policies=available_policies({}),
        settings=late_table,
        invoices=items,
        start=date(2024, 3, 1),
        end=date(2024, 4, 30),
    )
    assert sim.warnings == r.warnings and sim.to_dict()["warnings"] == list(r.warnings)


def test_step_review_override_is_carried_to_the_actions() -> None:
    own = resolve_policies(
        {
            "p": {
                "steps": [
                    {
                        "id": "fee",
                        "days": 1,
                        "review": "always",
                        "actions": [
                            {"kind": "email", "template": "r"},
                            {"kind": "note", "text": "n"},
                            {"kind": "late_fee", "fee": "f"},
                        ],
                    },
                    {
                        "id": "quiet",
                        "days": 5,
                        "review": "never",
                        "actions": [{"kind": "email", "template": "q"}],
                    },
                ],
                "fees": {"f": {"kind": "fixed", "amount": "20"}},
            }
        }
    )
    r = claim_at("p", debt(DUE), CustomerSnapshot("c1"), date(2024, 3, 18), policies=own)
    assert {(a.kind, a.review_mode) for a in r.actions} == {
        (ActionKind.EMAIL, "always"),
        (ActionKind.NOTE, "always"),
        (ActionKind.LATE_FEE, "always"),
    }
    r = claim_at("p", debt(DUE), CustomerSnapshot("c1"), date(2024, 3, 20), policies=own)
    assert [(a.step_id, a.review_mode) for a in r.actions if a.kind is ActionKind.EMAIL] == [
        ("quiet", "never")
    ]
    assert r.actions[0].to_dict()["review_mode"] is not None


def test_explain_policy_words_the_go_live_rules() -> None:
    text = explain_policy("uk-statutory", available_policies({})["uk-statutory"])
    assert "Go-live: invoices already overdue get one 'account-summary' email on go-live" in text
    assert "more than 180 days overdue at go-live are held for review" in text
    assert "No interest day or compensation dated before go-live is claimed." in text
    assert "only on GBP debts of business customers; customers of unknown type are held" in text
    standard = explain_policy("standard", available_policies({})["standard"])
    assert "No fee period before go-live is charged." in standard
    assert "at most 1 missed one(s); older missed periods are waived" in standard


def test_onboarding_step_id_is_reserved() -> None:
    from policies import PolicyConfigError

    with pytest.raises(PolicyConfigError, match="reserved for the go-live entry"):
        resolve_policies(
            {"p": {"steps": [{"id": "onboarding", "days": 1, "actions": [{"kind": "stop"}]}]}}
        )
