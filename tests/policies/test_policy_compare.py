"""Policies side by side over one history: each figure recomputed from the timeline here, and
the state a back-test starts from (``syncd.dunning.backtest.state_on``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from policies import (
    ActionKind,
    DunningInput,
    DunningState,
    EscalationLevel,
    InvoiceStatus,
    Payment,
    simulate,
)
from policies.compare import compare, paid_by
from policies.simulate import SimulationResult
from syncd.dunning.backtest import state_on
from tests.policies.test_policy_engine import ORG, POLICIES, SETTINGS, cust, inv

START, END = date(2024, 4, 1), date(2024, 8, 31)


def history() -> list[DunningInput]:
    """Never paid (GBP), paid in two parts in June (GBP), paid then refunded (EUR)."""
    return [
        DunningInput(inv("never", customer="a"), cust("a")),
        DunningInput(
            replace(
                inv("parts", customer="b", balance="0", total="600", status=InvoiceStatus.PAID),
                payments=(
                    Payment(date(2024, 6, 3), Decimal(200)),
                    Payment(date(2024, 6, 12), Decimal(400)),
                ),
            ),
            cust("b"),
        ),
        DunningInput(
            replace(
                inv("refund", customer="c", balance="300", currency="EUR"),
                payments=(
                    Payment(date(2024, 5, 20), Decimal(300)),
                    Payment(date(2024, 6, 1), Decimal(-300)),
                ),
            ),
            cust("c"),
        ),
    ]


def replay(inputs: list[DunningInput], policy: str) -> SimulationResult:
    return simulate(
        org=ORG,
        policies=POLICIES,
        settings=SETTINGS,
        invoices=inputs,
        start=START,
        end=END,
        policy=policy,
    )


def test_side_by_side_figures_match_the_timeline() -> None:
    inputs = history()
    snaps = {i.invoice.invoice_id: i.invoice for i in inputs}
    for policy in ("standard", "firm", "gentle"):
        result = replay(inputs, policy)
        c = compare(policy, result, snaps, within=14)
        per_day = Counter(e.day for e in result.timeline)
        assert c.peak_actions_per_day == max(per_day.values())
        mails = (ActionKind.EMAIL, ActionKind.PROVIDER_EMAIL)  # sent by syncd or the provider
        assert c.emails == sum(1 for e in result.timeline if e.action.kind in mails)
        for cur in ("GBP", "EUR"):
            fees = [
                e
                for e in result.timeline
                if e.action.amount is not None and e.action.amount.currency == cur
            ]
            charged = sum((e.action.amount.amount for e in fees if e.action.amount), Decimal(0))
            then_paid = Decimal(0)
            for e in fees:
                s = snaps[e.action.invoice_id or ""]
                # Paid by the day's end within 14 days: walk the days one by one.
                if any(s.balance_on(e.day + timedelta(days=n)) <= 0 for n in range(15)):
                    then_paid += e.action.amount.amount if e.action.amount else 0
            got = c.per_currency.get(cur)
            assert (got.charged if got else Decimal(0)) == charged, (policy, cur)
            assert (got.charged_then_paid if got else Decimal(0)) == then_paid, (policy, cur)
    firm = compare(
        "firm",
        replay(inputs, "firm"),
        snaps,
    )
    assert firm.per_currency["GBP"].charged > 0


def test_paid_by_sees_partial_payments_and_refunds() -> None:
    parts, refund = history()[1].invoice, history()[2].invoice
    assert not paid_by(parts, date(2024, 6, 1), 5)  # 200 of 600 by 6 June
    assert paid_by(parts, date(2024, 6, 1), 11)  # the rest on 12 June
    assert paid_by(refund, date(2024, 5, 15), 10)  # paid on 20 May (refunded later)
    assert not paid_by(refund, date(2024, 6, 2), 60)  # owed again since 1 June


def test_state_on_keeps_only_what_happened_before_the_day() -> None:
    full = DunningState.from_dict(
        {
            "policy": "standard",
            "steps": [
                {
                    "step_id": "reminder",
                    "day": 1,
                    "policy": "standard",
                    "outcome": "fired",
                    "on": "2024-05-02",
                },
                {
                    "step_id": "final",
                    "day": 30,
                    "policy": "standard",
                    "outcome": "fired",
                    "on": "2024-05-31",
                },
            ],
            "fees": [
                {
                    "rule": "late",
                    "period": 1,
                    "amount": "10",
                    "currency": "GBP",
                    "on": "2024-05-15",
                },
                {
                    "rule": "late",
                    "period": 2,
                    "amount": "10",
                    "currency": "GBP",
                    "on": "2024-06-15",
                },
            ],
            "interest": [
                {"step_id": "final", "through": "2024-06-30", "amount": "3.10", "currency": "GBP"}
            ],
            "compensation": "40",
            "escalation": "collections",
            "stopped_on": "2024-07-01",
            "next_action_on": "2024-07-15",
            "onboarded_on": "2024-05-02",
            "clock_shift": 3,
        }
    )
    mid = state_on(full, date(2024, 6, 1), escalation=EscalationLevel.LETTER)
    assert [r.step_id for r in mid.steps] == ["reminder", "final"]
    assert [c.period for c in mid.fees] == [1]
    assert mid.interest == () and mid.compensation is None and mid.stopped_on is None
    assert mid.escalation is EscalationLevel.LETTER and mid.next_action_on is None
    assert (mid.onboarded_on, mid.clock_shift) == (date(2024, 5, 2), 3)
    early = state_on(full, date(2024, 5, 2))
    assert early.steps == () and early.policy is None and early.fees == ()
    assert (early.onboarded_on, early.clock_shift) == (None, 0)
    later = state_on(full, date(2024, 8, 1), compensated=True)
    assert later.compensation == Decimal(40) and later.stopped_on == date(2024, 7, 1)
    assert len(later.interest) == 1 and len(later.fees) == 2


def test_what_the_engine_would_hold_for_a_person_is_counted() -> None:
    """Under ``uk-statutory`` every claim on a customer nobody marked as a business, and the
    email that goes with it, waits for a person; a back-test says how many, per policy."""
    inputs = history()
    snaps = {i.invoice.invoice_id: i.invoice for i in inputs}
    held = {}
    for policy in ("standard", "uk-statutory"):
        result = replay(inputs, policy)
        c = compare(policy, result, snaps)
        assert c.held == sum(1 for e in result.timeline if e.action.review is not None)
        assert c.to_dict()["held_for_review"] == c.held
        held[policy] = {
            (e.action.kind, e.action.step_id) for e in result.timeline if e.action.review
        }
    assert held["standard"] == set()
    assert (ActionKind.COMPENSATION, "statutory-claim") in held["uk-statutory"]
    assert (ActionKind.EMAIL, "statutory-claim") in held["uk-statutory"]
