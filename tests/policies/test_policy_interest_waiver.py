"""Interest waived for the days of a payment plan (``interest_during_plan = false``): only
the window is waived, the days before and after it stay claimable. Worked by hand."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    DunningState,
    InvoiceSnapshot,
    OrgContext,
    available_policies,
    plan_cycle,
    validate_settings,
)
from policies.interest import statutory_interest, waived_windows, waiver_entry
from policies.schema import InterestConfig

TZ = ZoneInfo("Europe/London")
SETTINGS = validate_settings({"rates": {"boe_base": [{"since": "2023-08-03", "percent": "5.25"}]}})
UK = InterestConfig(regime="uk")
DUE = date(2024, 3, 15)  # uk-statutory claims on day 14: Fri 29 Mar 2024
CLAIM_DAY = date(2024, 3, 29)
BUSINESS = CustomerSnapshot("c1", is_business=True)


def debt(amount: str = "10000") -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id="i1",
        number="INV-1",
        customer_id="c1",
        currency="GBP",
        issue_date=DUE - timedelta(days=30),
        due_date=DUE,
        total=Decimal(amount),
        balance=Decimal(amount),
    )


def test_waiver_entries_round_trip_through_the_state() -> None:
    entry = waiver_entry("plan/7", date(2024, 3, 20), date(2024, 3, 25))
    assert entry == ("interest-waived:plan/7", "2024-03-20/2024-03-25")
    state = DunningState.from_dict(DunningState(meta=(entry, ("other", "x"))).to_dict())
    assert waived_windows(state.meta) == [(date(2024, 3, 20), date(2024, 3, 25))]


def test_only_the_days_inside_the_window_are_waived() -> None:
    # 16 Mar to 29 Mar is 14 days; 20 to 25 Mar (6 days) waived: 8 days at 13.25% on
    # 10,000 = 1,325 x 8 / 365 = 29.041 -> 29.04 (all 14 days would be 50.82).
    window = (date(2024, 3, 20), date(2024, 3, 25))
    calc = statutory_interest(UK, SETTINGS.rates, debt(), DUE, CLAIM_DAY, [window])
    assert calc.amount == Decimal("29.04") and calc.days == 8
    assert "6 day(s) from 2024-03-20 waived" in calc.explanation
    assert "4 day(s) from 2024-03-16 on 10000" in calc.explanation
    assert "4 day(s) from 2024-03-26 on 10000" in calc.explanation
    whole = statutory_interest(UK, SETTINGS.rates, debt(), DUE, CLAIM_DAY)
    assert whole.amount == Decimal("50.82") and whole.days == 14


def test_a_window_covering_every_day_leaves_nothing_to_claim() -> None:
    calc = statutory_interest(
        UK, SETTINGS.rates, debt(), DUE, CLAIM_DAY, [(date(2024, 3, 1), date(2024, 4, 1))]
    )
    assert calc.amount == 0 and calc.days == 0


def test_the_engine_claims_the_interest_from_before_the_plan() -> None:
    """A plan agreed on 20 Mar and broken on 25 Mar: the claim on 29 Mar takes the 4 days
    before the plan and the 4 after it, not only the days after the break."""
    state = DunningState(meta=(waiver_entry("plan/7", date(2024, 3, 20), date(2024, 3, 25)),))
    result = plan_cycle(
        org=OrgContext("acme", TZ, "uk-statutory"),
        policies=available_policies({}),
        settings=SETTINGS,
        as_of=datetime.combine(CLAIM_DAY, time(9), TZ),
        invoices=[DunningInput(debt(), BUSINESS, state)],
    )
    claimed = {a.kind: a.amount.amount for a in result.actions if a.amount is not None}
    assert claimed[ActionKind.INTEREST] == Decimal("29.04")
    # the waiver stays in the state: a later claim must skip the window too
    assert waived_windows(result.states["i1"].meta) == [(date(2024, 3, 20), date(2024, 3, 25))]
