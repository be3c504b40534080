"""Contract: every write happens once per idempotency key, however often it is repeated.

The same key twice (or three times) writes once at the provider, counted in the sandbox's
write log, and the repeat says so. Keys carry ``/`` and ``%`` as the policy engine's do.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.base import LateFee
from connectors.kit import tag, tag_key

from .conftest import World

KEYS = ["acme:1:note/r1", "acme:C%2F1:customer/C%2F1:note/reminder:ab12"]


@pytest.mark.parametrize("key", KEYS)
def test_note_is_written_once_per_key(world: World, key: str) -> None:
    invoice = world.adapter.open_invoices()[0]["id"]
    connector = world.connector()
    first = connector.add_note(invoice, "Reminder 1 sent", idempotency_key=key)
    second = connector.add_note(invoice, "Reminder 1 sent", idempotency_key=key)
    assert first.detail != "already applied" and second.detail == "already applied"
    assert world.adapter.notes(invoice) == [f"{tag(key)} Reminder 1 sent"]


def test_provider_email_is_sent_once_per_key(world: World) -> None:
    invoice = world.adapter.open_invoices(emailable=True)[0]["id"]
    connector = world.connector()
    for _ in range(3):
        connector.send_provider_email(invoice, to=None, idempotency_key="acme:2:email/r1")
    assert world.adapter.emails(invoice) == 1


def test_late_fee_line_is_added_once_per_key(world: World) -> None:
    invoice = world.adapter.open_invoices()[0]
    connector = world.connector()
    before = connector.fetch_invoice(invoice["id"])
    assert before is not None
    fee = LateFee(Decimal("15.00"), before.currency, "Late fee, 30 days overdue")
    key = "acme:3:fee/late:1"
    connector.add_charge(invoice["id"], fee, idempotency_key=key)
    again = connector.add_charge(invoice["id"], fee, idempotency_key=key)
    assert again.detail == "already applied"
    after = connector.fetch_invoice(invoice["id"])
    assert after is not None
    old = {ln.provider_line_id: ln for ln in before.lines}
    assert {ln.provider_line_id: ln for ln in after.lines if ln.provider_line_id in old} == old
    added = [ln for ln in after.lines if ln.fee_key == tag_key(key)]
    assert len(added) == 1 and added[0].amount == fee.amount
    assert (after.total, after.balance) == (before.total + fee.amount, before.balance + fee.amount)
    assert world.adapter.fee_lines(tag(key)) == 1


def test_late_fee_as_a_separate_invoice_is_created_once_per_key(world: World) -> None:
    invoice = world.adapter.open_invoices()[0]
    connector = world.connector()
    connector.options = connector.options.model_copy(update={"late_fee_mode": "invoice"})
    fee = LateFee(Decimal("9.99"), invoice["currency"], "Late fee")
    result = connector.add_charge(invoice["id"], fee, idempotency_key="acme:4:fee/l:1")
    again = connector.add_charge(invoice["id"], fee, idempotency_key="acme:4:fee/l:1")
    assert again.remote_id == result.remote_id
    assert world.adapter.fee_invoices() == 1
    created = connector.fetch_invoice(str(result.remote_id))
    assert created is not None and created.total == Decimal("9.99")
    assert created.customer_provider_id == invoice["customer_id"]


def test_a_write_retried_after_a_5xx_happens_once(world: World) -> None:
    invoice = world.adapter.open_invoices()[0]["id"]
    connector = world.connector()
    assert connector.fetch_invoice(invoice) is not None  # holds a token: the fault hits the write
    world.adapter.fault(
        "503", count=1, method="POST" if world.adapter.provider != "xero" else "PUT"
    )
    connector.add_note(invoice, "After a hiccup", idempotency_key="acme:5:note")
    assert world.adapter.notes(invoice) == [f"{tag('acme:5:note')} After a hiccup"]
    assert 503 in world.adapter.statuses()


def test_a_missing_invoice_reads_as_none(world: World) -> None:
    assert world.connector().fetch_invoice(world.adapter.missing_id) is None
