"""Contract: a settlement's credit closes the invoice through exactly one credit document.

Both connectors run these against their sandbox: the credit is applied to the invoice the way
the provider's UI does it (Xero: an ACCRECCREDIT credit note allocated to the invoice;
QuickBooks: a CreditMemo linked through a zero-total payment), a repeat with the same key
writes nothing, the synced store equals the provider's books afterwards, and a credit above
the amount due or in another currency is refused before anything is written.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.base import Credit, PermanentError

from .conftest import World


def _settable(world: World) -> dict[str, str]:
    if world.adapter.provider == "quickbooks":
        # The company's default applies credits to the *oldest* open invoice; the zero-total
        # payment path (what the UI does with the setting off) is the one under test here.
        world.adapter.sandbox.control.settings(auto_apply_credit=False)
    return world.adapter.open_invoices()[0]


def test_credit_closes_the_remainder_once_and_sync_follows(world: World) -> None:
    world.syncer().backfill()
    invoice = _settable(world)
    connector = world.connector()
    before = connector.fetch_invoice(invoice["id"])
    assert before is not None and before.balance > Decimal("2.00")
    world.adapter.advance(600)
    world.adapter.pay(invoice["id"], "1.00")
    remainder = before.balance - Decimal("1.00")
    credit = Credit(remainder, before.currency, "Settlement S-1: agreed 1.00")
    key = "shop:settlement/1:credit"
    documents = len(world.adapter.credit_documents())

    first = connector.apply_credit(invoice["id"], credit, idempotency_key=key)
    again = connector.apply_credit(invoice["id"], credit, idempotency_key=key)

    assert first.invoice is not None and first.invoice.balance == Decimal("0")
    assert again.remote_id == first.remote_id and again.detail == "already applied"
    created = world.adapter.credit_documents()
    assert len(created) == documents + 1
    assert Decimal(next(c for c in created if c["id"] == first.remote_id)["total"]) == remainder
    world.syncer().sync()  # QuickBooks CDC / Xero If-Modified-Since bring the credit
    assert world.mismatches() == []
    world.syncer().backfill(restart=True)  # and a full pull finds it too
    assert world.mismatches() == []
    after = connector.fetch_invoice(invoice["id"])
    assert after is not None and after.status.value == "paid"


def test_credit_above_the_amount_due_is_refused_and_writes_nothing(world: World) -> None:
    invoice = _settable(world)
    connector = world.connector()
    before = connector.fetch_invoice(invoice["id"])
    assert before is not None
    documents = len(world.adapter.credit_documents())
    too_much = Credit(before.balance + Decimal("0.01"), before.currency, "Settlement S-2")
    with pytest.raises(PermanentError, match="exceeds"):
        connector.apply_credit(invoice["id"], too_much, idempotency_key="shop:settlement/2")
    other = "EUR" if before.currency != "EUR" else "USD"
    with pytest.raises(PermanentError, match="cannot be applied to an invoice in"):
        connector.apply_credit(
            invoice["id"], Credit(Decimal("1.00"), other, "S-3"), idempotency_key="shop:s/3"
        )
    assert len(world.adapter.credit_documents()) == documents
    unchanged = connector.fetch_invoice(invoice["id"])
    assert unchanged is not None and unchanged.balance == before.balance
