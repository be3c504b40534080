"""The seed is deterministic and looks like a real small business."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from connectors.xero.sandbox.clock import SandboxClock
from connectors.xero.sandbox.seed import build_organisation

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def _truth(seed: int, invoices: int) -> dict:  # type: ignore[type-arg]
    org = build_organisation(seed=seed, invoices=invoices, now=NOW, clock=SandboxClock(NOW))
    truth = org.truth()
    truth.pop("now")
    return truth


def test_same_seed_same_state_different_seed_different_state() -> None:
    assert _truth(5, 150) == _truth(5, 150)
    assert _truth(5, 150) != _truth(6, 150)


def test_realistic_mix() -> None:
    org = build_organisation(seed=2, invoices=800, now=NOW, clock=SandboxClock(NOW))
    invoices = list(org.invoices.values())
    sales = [i for i in invoices if i.type == "ACCREC"]
    assert len(sales) == 800
    assert any(i.type == "ACCPAY" for i in invoices)
    statuses = Counter(i.status for i in sales)
    assert set(statuses) == {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}
    assert statuses["PAID"] > statuses["AUTHORISED"] > statuses["VOIDED"]
    assert {i.currency for i in sales} >= {"NZD", "USD"} and len({i.currency for i in sales}) >= 3
    assert {i.line_amount_types for i in sales} == {"Exclusive", "Inclusive", "NoTax"}
    assert min(i.date for i in sales) >= (NOW - timedelta(days=550)).date()
    assert max(i.updated for i in invoices) < NOW
    part_paid = [i for i in sales if i.status == "AUTHORISED" and i.amount_paid > 0]
    overdue = [
        i for i in sales if i.status == "AUTHORISED" and i.due_date and i.due_date < NOW.date()
    ]
    credited = [i for i in sales if i.amount_credited > 0]
    assert part_paid and overdue and credited
    for inv in sales:
        assert inv.amount_due == (
            0 if inv.status in ("VOIDED", "DELETED", "PAID") else inv.amount_due
        )
        assert inv.amount_due >= 0
        if inv.status == "PAID":
            assert inv.amount_paid + inv.amount_credited == inv.total
    contacts = list(org.contacts.values())
    assert any(c.status == "ARCHIVED" for c in contacts)
    assert any(not c.email_recipients() for c in contacts)
    assert any(not c.email and c.email_recipients() for c in contacts)
    assert any(p.status == "DELETED" for p in org.payments.values())
    numbers = sorted(i.number for i in sales)
    assert numbers[0] == "INV-0001" and len(set(numbers)) == len(numbers)


def test_ten_thousand_invoices_build() -> None:
    org = build_organisation(seed=1, invoices=10_000, now=NOW, clock=SandboxClock(NOW))
    assert sum(1 for i in org.invoices.values() if i.type == "ACCREC") == 10_000
