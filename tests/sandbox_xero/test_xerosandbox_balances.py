"""Kept balances (balances.py) equal a fresh sum over every invoice after writes of any kind:
field assignments (payments, voids, a new contact or due date), invoices added, replaced by an
edited copy and dropped, another day, another region, and a table replaced wholesale."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from connectors.xero.sandbox import XeroSandbox, listing
from connectors.xero.sandbox.balances import Owed
from connectors.xero.sandbox.records import Records
from connectors.xero.sandbox.regions import REGIONS
from connectors.xero.sandbox.render import receivable_balances

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def _same(sb: XeroSandbox, day: datetime = NOW) -> None:
    org = sb.org
    today = day.date()
    assert listing.balances(org, today) == receivable_balances(org, today)


def test_balances_follow_every_kind_of_write() -> None:
    sb = XeroSandbox(seed=5, invoices=400, now=NOW)
    org = sb.org
    assert isinstance(org.invoices, Owed)
    _same(sb)
    open_ones = sorted(
        i.invoice_id
        for i in org.invoices.values()
        if i.type == "ACCREC" and i.status == "AUTHORISED"
    )
    first, second, third, fourth, fifth = (org.invoices[i] for i in open_ones[:5])
    reply = sb.dispatcher.control.handle(
        "POST",
        "/_sandbox/payments",
        {},
        json.dumps({"invoice_id": first.invoice_id, "amount": "3.33"}).encode(),
    )
    assert reply.status == 200
    _same(sb)
    second.status = "VOIDED"
    third.contact_id = fourth.contact_id
    fourth.due_date = NOW.date() + timedelta(days=400)
    _same(sb)
    edited = copy.deepcopy(fifth)  # how an edit builds its candidate
    edited.amount_paid = Decimal("1.00")
    _same(sb)  # the original is still the one in the table
    org.invoices[fifth.invoice_id] = edited
    _same(sb)
    del org.invoices[fourth.invoice_id]
    org.invoices.pop(third.invoice_id)
    added = copy.deepcopy(first)
    added.invoice_id = "00000000-0000-4000-8000-000000000001"
    org.invoices.update({added.invoice_id: added})
    _same(sb)
    _same(sb, NOW + timedelta(days=60))
    org.region = REGIONS["AU"]
    _same(sb, NOW + timedelta(days=60))


def test_a_table_replaced_or_cleared_is_summed_afresh() -> None:
    sb = XeroSandbox(seed=6, invoices=200, now=NOW)
    org = sb.org
    _same(sb)
    org.invoices = Records(org.invoices)  # not one that notes ids: summed every time
    _same(sb)
    next(iter(org.invoices.values())).status = "VOIDED"
    _same(sb)
    owed = Owed()
    owed.update(org.invoices)
    org.invoices = owed
    _same(sb)
    owed.clear()
    assert listing.balances(org, NOW.date()) == {}
