"""The charge line's description: the customer reads it on their invoice, so it is the plan's
``text``, never the bookkeeper's ``reason``, also for actions queued by an earlier version
(no ``text``) and still waiting for review when syncd is upgraded."""

from __future__ import annotations

from decimal import Decimal

from syncd.letters.statement import charge_kind
from syncd.outbox.writes import fee_line

STEP = (
    "uk-statutory: step 'final-notice' (30 days overdue) is due: invoice INV-7 due 2026-10-22, "
    "69 days overdue, 768.00 GBP open; earlier step(s) 'statutory-claim' were missed and are "
    "not sent"
)


def payload(reason: str) -> dict[str, object]:
    return {"amount": "8.68", "currency": "GBP", "policy": "uk-statutory", "reason": reason}


def test_the_plans_text_is_the_line() -> None:
    planned = {**payload(f"{STEP}; UK Late Payment Act interest ..."), "text": "33 day(s)"}
    line = fee_line("interest", planned)
    assert (line.amount, line.currency) == (Decimal("8.68"), "GBP")
    assert line.description == "Statutory interest: 33 day(s)"
    assert charge_kind(line.description) == "interest"


def test_a_late_fee_queued_before_keeps_its_calculation_without_the_policy() -> None:
    line = fee_line("late_fee", payload("uk-statutory: monthly late fee: 1.5% of 768.00 GBP"))
    assert line.description == "Late fee: monthly late fee: 1.5% of 768.00 GBP"


def test_a_claim_queued_before_says_what_it_is_and_how_much() -> None:
    interest = fee_line("interest", payload(f"{STEP}; UK Late Payment Act interest ..."))
    assert interest.description == "Statutory interest: 8.68 GBP"
    fixed = fee_line("compensation", payload(f"{STEP}; UK fixed compensation for 768.00 GBP"))
    assert fixed.description == "Fixed-sum compensation: 8.68 GBP"
    assert [charge_kind(x.description) for x in (interest, fixed)] == ["interest", "compensation"]
