"""Worked examples for every late-fee mode, with the figures computed by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    DunningState,
    InvoiceSnapshot,
    OrgContext,
    PolicyConfig,
    PolicySettings,
    plan_cycle,
    resolve_policies,
)
from policies.fees import accrued_fees, add_months, fee_cap

DUE = date(2024, 1, 31)
CUSTOMER = CustomerSnapshot("c1", "Customer")


def policy(
    fee: dict[str, Any],
    *,
    day: int = 14,
    cap: dict[str, Any] | None = None,
    catch_up: int | None = None,
) -> PolicyConfig:
    raw: dict[str, Any] = {
        "steps": [{"id": "fee", "days": day, "actions": [{"kind": "late_fee", "fee": "f"}]}],
        "fees": {"f": fee},
    }
    if catch_up is not None:
        raw["max_catch_up_periods"] = catch_up
    if cap is not None:
        raw["fee_cap"] = cap
    return resolve_policies({"p": raw})["p"]


def invoice(balance: str, *, total: str | None = None, currency: str = "GBP") -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id="i1",
        number="INV-1",
        customer_id="c1",
        currency=currency,
        issue_date=DUE - timedelta(days=30),
        due_date=DUE,
        total=Decimal(total or balance),
        balance=Decimal(balance),
    )


def charged(
    p: PolicyConfig, inv: InvoiceSnapshot, day: int, state: DunningState | None = None
) -> list[tuple[int, Decimal]]:
    out = accrued_fees(p, state or DunningState(), inv, CUSTOMER, day)
    return [(d.period, d.amount) for d in out.decisions]


def test_fixed_fee_per_currency_table() -> None:
    p = policy({"kind": "fixed", "amount": {"GBP": "25", "EUR": "30"}})
    assert charged(p, invoice("500"), 13) == []
    assert charged(p, invoice("500"), 14) == [(0, Decimal("25.00"))]
    assert charged(p, invoice("500", currency="EUR"), 40) == [(0, Decimal("30.00"))]
    # no USD amount configured: the period is settled as waived, never guessed
    out = accrued_fees(p, DunningState(), invoice("500", currency="USD"), CUSTOMER, 14)
    assert [
        (d.amount, "no fixed amount configured for USD" in d.reason) for d in out.decisions
    ] == [(Decimal(0), True)]


def test_one_off_percent_fee_rounds_half_up() -> None:
    p = policy({"kind": "percent", "percent": "2"})
    # 2% of 100.25 = 2.005 -> 2.01 (half up; half-even would give 2.00)
    assert charged(p, invoice("100.25"), 20) == [(0, Decimal("2.01"))]
    # 2% of 1234.57 = 24.6914 -> 24.69
    assert charged(p, invoice("1234.57"), 20) == [(0, Decimal("24.69"))]
    # once only: no further periods
    assert charged(p, invoice("1234.57"), 400) == [(0, Decimal("24.69"))]


def test_zero_decimal_currency() -> None:
    p = policy({"kind": "percent", "percent": "1.5"})
    # 1.5% of JPY 12,345 = 185.175 -> 185 (JPY has no minor unit)
    assert charged(p, invoice("12345", currency="JPY"), 20) == [(0, Decimal("185"))]
    # KWD has three decimals: 1.5% of 100.005 = 1.500075 -> 1.500
    assert charged(p, invoice("100.005", currency="KWD"), 20) == [(0, Decimal("1.500"))]


def test_monthly_simple_periods_accrue_and_catch_up_without_extra() -> None:
    p = policy({"kind": "percent_per_period", "percent": "1.5", "period": "month"})
    inv = invoice("1000")
    # anchor = due + 14 = 2024-02-14 (day 14); next periods 2024-03-14 (day 43), 2024-04-14 (day 74)
    assert add_months(date(2024, 2, 14), 1) == date(2024, 3, 14)
    assert charged(p, inv, 14) == [(0, Decimal("15.00"))]
    assert charged(p, inv, 42) == [(0, Decimal("15.00"))]
    assert charged(p, inv, 43) == [(0, Decimal("15.00")), (1, Decimal("15.00"))]
    # daemon down from day 10 to day 80: three periods accrued, not a fourth; the current
    # one (2) and max_catch_up_periods = 1 missed one (1) are charged, the oldest waived
    out = accrued_fees(p, DunningState(), inv, CUSTOMER, 80)
    assert [(d.period, d.amount) for d in out.decisions] == [
        (0, Decimal(0)),
        (1, Decimal("15.00")),
        (2, Decimal("15.00")),
    ]
    assert "missed while syncd was not running" in out.decisions[0].reason


def test_monthly_compounding() -> None:
    p = policy(
        {"kind": "percent_per_period", "percent": "2", "period": "month", "compounding": True},
        catch_up=5,
    )
    # 2% of 1000 = 20.00; 2% of 1020.00 = 20.40; 2% of 1040.40 = 20.808 -> 20.81
    assert charged(p, invoice("1000"), 80) == [
        (0, Decimal("20.00")),
        (1, Decimal("20.40")),
        (2, Decimal("20.81")),
    ]


def test_already_charged_periods_are_never_charged_again() -> None:
    p = policy(
        {"kind": "percent_per_period", "percent": "2", "period": "month", "compounding": True}
    )
    inv = invoice("1000")
    first = accrued_fees(p, DunningState(), inv, CUSTOMER, 50)
    from policies.fees import as_charges

    state = DunningState(fees=as_charges(first.decisions, date(2024, 3, 20)))
    assert [(d.period, d.amount) for d in first.decisions] == [
        (0, Decimal("20.00")),
        (1, Decimal("20.40")),
    ]
    # the next run sees both periods settled; period 2 compounds on the earlier fees
    assert charged(p, inv, 80, state) == [(2, Decimal("20.81"))]
    assert accrued_fees(p, state, inv, CUSTOMER, 50).decisions == ()
    assert accrued_fees(p, state, inv, CUSTOMER, 50).next_day == 14 + 29 + 31  # 2024-04-14


def test_weekly_periods_with_grace_days_and_max_periods() -> None:
    p = policy(
        {
            "kind": "percent_per_period",
            "percent": "1",
            "period": "week",
            "every": 2,
            "grace_days": 5,
            "max_periods": 2,
        }
    )
    inv = invoice("300")
    assert charged(p, inv, 18) == []  # grace: starts on day 14 + 5 = 19
    assert charged(p, inv, 19) == [(0, Decimal("3.00"))]
    assert charged(p, inv, 32) == [(0, Decimal("3.00"))]
    assert charged(p, inv, 33) == [(0, Decimal("3.00")), (1, Decimal("3.00"))]
    assert charged(p, inv, 200) == [(0, Decimal("3.00")), (1, Decimal("3.00"))]


def test_minimum_balance_waives_the_period() -> None:
    p = policy({"kind": "percent", "percent": "5", "min_balance": {"GBP": "50"}})
    out = accrued_fees(p, DunningState(), invoice("49.99"), CUSTOMER, 20)
    assert [(d.amount, "below the minimum" in d.reason) for d in out.decisions] == [
        (Decimal(0), True)
    ]
    assert charged(p, invoice("50"), 20) == [(0, Decimal("2.50"))]


def test_per_fee_min_and_max() -> None:
    p = policy({"kind": "percent", "percent": "1", "min": "5", "max": "50"})
    assert charged(p, invoice("200"), 20) == [(0, Decimal("5.00"))]  # 2.00 raised to 5.00
    assert charged(p, invoice("100000"), 20) == [(0, Decimal("50.00"))]  # 1000.00 limited to 50
    assert charged(p, invoice("3000"), 20) == [(0, Decimal("30.00"))]


def test_cap_absolute_and_percent_of_total_lower_wins() -> None:
    # 5% monthly of 300 = 15.00 a month; cap = min(50, 10% of 300 = 30) = 30
    p = policy(
        {"kind": "percent_per_period", "percent": "5", "period": "month"},
        cap={"amount": "50", "percent_of_total": "10"},
        catch_up=10,
    )
    inv = invoice("300")
    assert fee_cap(p, inv) == Decimal("30.00")
    assert charged(p, inv, 200) == [
        (0, Decimal("15.00")),
        (1, Decimal("15.00")),
        (2, Decimal(0)),
        (3, Decimal(0)),
        (4, Decimal(0)),
        (5, Decimal(0)),
        (6, Decimal(0)),
    ]
    # a reached cap stops scheduling further periods
    assert accrued_fees(p, DunningState(), inv, CUSTOMER, 200).next_day is None


def test_cap_cuts_the_last_fee_and_is_rounded_down() -> None:
    # cap 7% of 333.33 = 23.3331 -> 23.33 (rounded down so the cap is never exceeded)
    p = policy(
        {"kind": "percent_per_period", "percent": "5", "period": "month"},
        cap={"percent_of_total": "7"},
    )
    inv = invoice("333.33")
    assert fee_cap(p, inv) == Decimal("23.33")
    # 5% of 333.33 = 16.6665 -> 16.67; then 23.33 - 16.67 = 6.66
    assert charged(p, inv, 50) == [(0, Decimal("16.67")), (1, Decimal("6.66"))]


def test_partial_payment_recomputes_the_next_fee_on_the_new_balance() -> None:
    p = policy({"kind": "percent_per_period", "percent": "1.5", "period": "month"})
    first = accrued_fees(p, DunningState(), invoice("1000"), CUSTOMER, 14)
    from policies.fees import as_charges

    state = DunningState(fees=as_charges(first.decisions, date(2024, 2, 14)))
    # half paid before the second period: 1.5% of 500 = 7.50
    assert charged(p, invoice("500", total="1000"), 43, state) == [(1, Decimal("7.50"))]


def test_fee_through_the_engine_has_key_and_amount() -> None:
    p = policy({"kind": "fixed", "amount": "40"})
    tz = ZoneInfo("Europe/London")
    result = plan_cycle(
        org=OrgContext("acme", tz, "p"),
        policies={"p": p},
        settings=PolicySettings(),
        as_of=datetime(2024, 2, 14, 10, tzinfo=tz),
        invoices=[DunningInput(invoice("500"), CUSTOMER)],
    )
    (fee,) = [a for a in result.actions if a.kind is ActionKind.LATE_FEE]
    assert str(fee.key) == "acme:i1:fee/f:0"
    assert fee.amount is not None and (fee.amount.amount, fee.amount.currency) == (
        Decimal("40.00"),
        "GBP",
    )
    assert "fixed fee 40.00 GBP" in fee.reason
    assert result.states["i1"].fees_total() == Decimal("40.00")
