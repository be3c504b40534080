"""Statutory interest and compensation, worked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    InvoiceSnapshot,
    OrgContext,
    Payment,
    PolicySettings,
    plan_cycle,
    preset_policies,
    validate_settings,
)
from policies.interest import (
    MissingRate,
    compensation,
    rate_in_force,
    statutory_interest,
    uk_compensation,
    uk_reference_date,
)
from policies.schema import InterestConfig, RatesConfig

RATES = RatesConfig.model_validate(
    {
        "boe_base": [
            {"since": "2023-06-22", "percent": "5.00"},
            {"since": "2023-08-03", "percent": "5.25"},
            {"since": "2024-08-01", "percent": "5.00"},
        ],
        "ecb_refi": [
            {"since": "2023-09-20", "percent": "4.50"},
            {"since": "2024-06-12", "percent": "4.25"},
            {"since": "2024-09-18", "percent": "3.65"},
        ],
    }
)
UK = InterestConfig(regime="uk")
EU = InterestConfig(regime="eu")


def debt(
    amount: str,
    due: date,
    currency: str = "GBP",
    *,
    total: str | None = None,
    payments: tuple[Payment, ...] = (),
) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id="i1",
        number="INV-1",
        customer_id="c1",
        currency=currency,
        issue_date=date(2024, 1, 1),
        due_date=due,
        total=Decimal(total or amount),
        balance=Decimal(amount),
        payments=payments,
    )


def test_uk_reference_dates() -> None:
    # the rate follows the day interest starts to run (the day after the due date)
    assert uk_reference_date(date(2024, 3, 15)) == date(2023, 12, 31)
    assert uk_reference_date(date(2024, 6, 29)) == date(2023, 12, 31)
    assert uk_reference_date(date(2024, 6, 30)) == date(2024, 6, 30)  # runs from 1 July
    assert uk_reference_date(date(2024, 7, 1)) == date(2024, 6, 30)
    assert uk_reference_date(date(2024, 12, 30)) == date(2024, 6, 30)
    assert uk_reference_date(date(2024, 12, 31)) == date(2024, 12, 31)  # runs from 1 January
    assert rate_in_force(RATES.boe_base, date(2023, 12, 31)) == Decimal("5.25")
    assert rate_in_force(RATES.boe_base, date(2023, 1, 1)) is None


def test_uk_worked_example_10000_due_15_march_2024() -> None:
    # BoE base rate in force on 31 Dec 2023 = 5.25% -> statutory rate 13.25%, simple daily.
    # Interest from 16 Mar to 14 Apr 2024 inclusive = 16 + 14 = 30 days:
    # 10,000 x 13.25% x 30 / 365 = 1,325 x 30 / 365 = 108.9041... -> 108.90
    inv = debt("10000", date(2024, 3, 15))
    calc = statutory_interest(UK, RATES, inv, inv.due_date, date(2024, 4, 14))
    assert (calc.days, calc.amount) == (30, Decimal("108.90"))
    assert "13.25%" in calc.explanation
    # The rate is fixed for the life of the debt: the August 2024 cut does not apply.
    # 16 Mar to 15 Sep 2024 = 16+30+31+30+31+31+15 = 184 days:
    # 1,325 x 184 / 365 = 667.945... -> 667.95
    calc = statutory_interest(UK, RATES, inv, inv.due_date, date(2024, 9, 15))
    assert (calc.days, calc.amount) == (184, Decimal("667.95"))
    assert compensation(UK, inv) == (Decimal(100), "UK fixed compensation for a debt of 10000 GBP")


def test_uk_compensation_bands() -> None:
    assert uk_compensation(Decimal("999.99")) == 40
    assert uk_compensation(Decimal("1000")) == 70
    assert uk_compensation(Decimal("9999.99")) == 70
    assert uk_compensation(Decimal("10000")) == 100
    assert compensation(UK, debt("500", date(2024, 3, 15), currency="EUR"))[0] is None


def test_uk_interest_follows_partial_payments() -> None:
    # 5,000 of 10,000 paid on 25 Mar: 9 days (16-24 Mar) on 10,000, 21 days (25 Mar-14 Apr) on 5,000
    # (10,000 x 9 + 5,000 x 21) x 13.25% / 365 = 195,000 x 0.1325 / 365 = 70.787... -> 70.79
    inv = debt(
        "5000",
        date(2024, 3, 15),
        total="10000",
        payments=(Payment(date(2024, 3, 25), Decimal(5000)),),
    )
    calc = statutory_interest(UK, RATES, inv, inv.due_date, date(2024, 4, 14))
    assert calc.amount == Decimal("70.79")
    # a later claim covers only the days after the earlier one: 15 Apr - 14 May = 30 days on 5,000
    # 5,000 x 13.25% x 30 / 365 = 54.452... -> 54.45
    later = statutory_interest(UK, RATES, inv, date(2024, 4, 14), date(2024, 5, 14))
    assert (later.days, later.amount) == (30, Decimal("54.45"))


def test_eu_directive_half_yearly_ecb_rate() -> None:
    # EUR 20,000 due 10 May 2024. H1 2024: ECB rate on 1 Jan 2024 = 4.50 -> 12.50%;
    # H2 2024: rate on 1 Jul 2024 = 4.25 -> 12.25%.
    # 11 May - 30 Jun = 51 days at 12.50%; 1 - 10 Jul = 10 days at 12.25%:
    # 20,000 x (0.125 x 51 + 0.1225 x 10) / 365 = 20,000 x 7.6 / 365 = 416.438... -> 416.44
    inv = debt("20000", date(2024, 5, 10), currency="EUR")
    calc = statutory_interest(EU, RATES, inv, inv.due_date, date(2024, 7, 10))
    assert (calc.days, calc.amount) == (61, Decimal("416.44"))
    assert compensation(EU, inv) == (Decimal(40), "EU Late Payment Directive fixed compensation")


def test_missing_rate_is_an_error_not_a_guess() -> None:
    inv = debt("100", date(2023, 3, 1))
    with pytest.raises(MissingRate):
        statutory_interest(UK, RATES, inv, inv.due_date, date(2023, 4, 1))


def test_uk_statutory_preset_through_the_engine() -> None:
    tz = ZoneInfo("Europe/London")
    settings = validate_settings({"rates": RATES.model_dump(mode="json")})
    org = OrgContext("acme", tz, "uk-statutory")
    inv = debt("10000", date(2024, 3, 15))
    customer = CustomerSnapshot("c1")
    # day 14 (29 Mar 2024) is Good Friday but the engine plans by date; the calendar has no
    # holidays configured here. Claim: 14 days: 1,325 x 14 / 365 = 50.821... -> 50.82
    first = plan_cycle(
        org=org,
        policies=preset_policies(),
        settings=settings,
        as_of=datetime(2024, 3, 29, 10, tzinfo=tz),
        invoices=[DunningInput(inv, customer)],
    )
    money = {a.kind: a.amount.amount for a in first.actions if a.amount is not None}
    assert money == {
        ActionKind.INTEREST: Decimal("50.82"),
        ActionKind.COMPENSATION: Decimal("100.00"),
    }
    state = first.states["i1"]
    # day 30 (Sun 14 Apr) is not a send day: the final notice goes on Mon 15 Apr (day 31),
    # interest for 30 Mar - 15 Apr = 17 days: 1,325 x 17 / 365 = 61.712 -> 61.71;
    # compensation is claimed once only
    assert (
        plan_cycle(
            org=org,
            policies=preset_policies(),
            settings=settings,
            as_of=datetime(2024, 4, 14, 10, tzinfo=tz),
            invoices=[DunningInput(inv, customer, state)],
        ).actions
        == ()
    )
    second = plan_cycle(
        org=org,
        policies=preset_policies(),
        settings=settings,
        as_of=datetime(2024, 4, 15, 10, tzinfo=tz),
        invoices=[DunningInput(inv, customer, state)],
    )
    money = {a.kind: a.amount.amount for a in second.actions if a.amount is not None}
    assert money == {ActionKind.INTEREST: Decimal("61.71")}
    assert {a.kind for a in second.actions} >= {ActionKind.ESCALATE, ActionKind.EMAIL}
    assert str(next(a for a in second.actions if a.kind is ActionKind.INTEREST).key) == (
        "acme:i1:final-notice/interest:2024-04-15"
    )


def test_engine_without_rate_fires_the_step_and_says_why() -> None:
    tz = ZoneInfo("Europe/London")
    result = plan_cycle(
        org=OrgContext("acme", tz, "uk-statutory"),
        policies=preset_policies(),
        settings=PolicySettings(),
        as_of=datetime(2024, 3, 29, 10, tzinfo=tz),
        invoices=[DunningInput(debt("500", date(2024, 3, 15)), CustomerSnapshot("c1"))],
    )
    kinds = sorted(a.kind.value for a in result.actions)
    assert kinds == ["compensation", "email"]
    assert any("no Bank of England base rate" in r for r in result.decisions[0].reasons)


def test_the_charge_line_says_the_claim_whole_or_summarised_never_cut() -> None:
    """The interest line on the customer's invoice: the explanation when it is short; with a
    segment per part payment it would outgrow the line, so it says the days and the span."""
    inv = debt("10000", date(2024, 3, 15))
    calc = statutory_interest(UK, RATES, inv, inv.due_date, date(2024, 4, 14))
    assert calc.line == calc.explanation
    assert calc.line.endswith("30 day(s) from 2024-03-16 on 10000 GBP at 13.25%")
    paid = tuple(Payment(on=date(2024, 4, d), amount=Decimal(100)) for d in range(1, 29, 3))
    inv = debt("9000", date(2024, 3, 15), total="10000", payments=paid)
    calc = statutory_interest(UK, RATES, inv, inv.due_date, date(2024, 4, 30))
    assert calc.explanation.count(" on ") == len(paid) + 1 and len(calc.explanation) > 200
    assert calc.line == (
        "UK Late Payment Act interest, simple, 365-day year: 46 day(s) from 2024-03-16 "
        "to 2024-04-30"
    )


def test_the_claim_email_waits_with_a_claim_that_waits_or_cannot_be_made() -> None:
    """Day 14 of ``uk-statutory`` emails the claim. It goes on its own only with a claim made
    for a known business; otherwise it would tell a customer of a claim nobody made."""
    tz = ZoneInfo("Europe/London")
    settings = validate_settings({"rates": RATES.model_dump(mode="json")})
    debtors = {
        "business": (CustomerSnapshot("business", is_business=True), "GBP"),
        "unknown": (CustomerSnapshot("unknown"), "GBP"),
        "consumer": (CustomerSnapshot("consumer", is_business=False), "GBP"),
        "abroad": (CustomerSnapshot("abroad", is_business=True), "USD"),
    }
    invoices = [
        DunningInput(replace(debt("1000", date(2024, 3, 15), cur), invoice_id=n, customer_id=n), c)
        for n, (c, cur) in debtors.items()
    ]
    result = plan_cycle(
        org=OrgContext("acme", tz, "uk-statutory"),
        policies=preset_policies(),
        settings=settings,
        as_of=datetime(2024, 3, 29, 10, tzinfo=tz),
        invoices=invoices,
    )
    emails = {a.customer_id: a for a in result.actions if a.kind is ActionKind.EMAIL}
    assert {a.items[0].template for a in emails.values()} == {"statutory-claim"}
    assert emails["business"].review is None
    assert "waits for review" in str(emails["unknown"].review)
    assert "confirm the customer is a business" in str(emails["unknown"].review)
    assert "business debts only" in str(emails["consumer"].review)
    assert "GBP debts only, this one is in USD" in str(emails["abroad"].review)
    claims = {(a.customer_id, a.kind.value) for a in result.actions if a.amount is not None}
    assert claims == {
        ("business", "interest"),
        ("business", "compensation"),
        ("unknown", "interest"),
        ("unknown", "compensation"),
    }
