"""Issue 14, "fees follow the balance history", end to end on both sandboxes: an invoice paid
in full and reopened weeks later (the payment removed) is never charged a fee for a monthly
period that started while its balance was zero."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.quickbooks.sandbox import QuickBooksSandbox
from syncd.config import load_config
from syncd.store.models import Customer
from tests.connectors.quickbooks import conftest as qbo
from tests.connectors.xero import conftest as xero
from tests.review.conftest import World, email_section
from tests.support.smtp import smtp_server


@pytest.fixture
def live(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        for xb in xero.make_bench(tmp_path, store_url, invoices=20, minute_limit=5000):
            # Charges wait for review (Xero's 60 calls a minute would pace the backlog's fees);
            # what counts here is which fee periods get planned at all.
            text = xb.config.path.read_text(encoding="utf-8") + email_section(port)
            text = text.replace('review = "off"', 'review = "fees-and-escalations"')
            xb.config.path.write_text(text, encoding="utf-8")
            xb.config = load_config(xb.config.path)
            xb.syncer().backfill()
            yield World(
                "xero", xero.ORG, xb.config, xb.store, inbox, xb.clock.now, xb.control.writes, xb
            )


def test_no_fee_for_a_period_that_started_on_a_zero_balance(live: World) -> None:
    control = live.bench.control
    today = live.now().date()
    with live.store.sessions() as s:
        contact = next(c.provider_id for c in s.scalars(select(Customer)) if c.email)
    line = {"description": "Work", "quantity": "1", "unit_amount": "1000.00", "account_code": "200"}
    made = control.create_invoice(
        contact_id=contact,
        status="AUTHORISED",
        date=(today - timedelta(days=50)).isoformat(),
        due_date=(today - timedelta(days=20)).isoformat(),
        lines=[line],
    )
    invoice = made["invoice_id"]
    paid = control.add_payment(invoice, on=today)  # in full, inside the first fee period
    live.cli("run-once", ok=False)  # syncd sees the payment
    control.advance(45 * 86400)  # two periods start on a zero balance
    live.cli("run-once", ok=False)
    control.delete_payment(paid["payment_id"])  # reopened
    live.cli("run-once", ok=False)
    control.advance(30 * 86400)
    live.cli("run-once", ok=False)
    fees = [r for r in live.outbox() if r.kind == "late_fee" and r.invoice_provider_id == invoice]
    periods = {int(r.idempotency_key.rsplit(":", 1)[1]) for r in fees}
    # Period 0 started on day 14 (24 April), before the payment: chargeable. Period 1 started
    # a month later (about 25 May), while the balance was zero: never charged.
    assert 0 in periods
    assert 1 not in periods, [r.payload.get("reason") for r in fees]


@pytest.fixture
def qbo_live(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        for qb in qbo.make_bench(tmp_path, store_url, invoices=20, smtp_port=port):
            text = qb.config.path.read_text(encoding="utf-8")
            text = text.replace('review = "off"', 'review = "fees-and-escalations"')
            qb.config.path.write_text(text, encoding="utf-8")
            qb.config = load_config(qb.config.path)
            qb.syncer().backfill()
            yield World(
                "quickbooks",
                "qbo",
                qb.config,
                qb.store,
                inbox,
                qb.clock.now,
                qb.sandbox.control.writes,
                qb,
            )


def delete_qbo_payment(sandbox: QuickBooksSandbox, payment: dict[str, Any]) -> None:
    """As a bookkeeper would in QuickBooks: the Payment is deleted through the API."""
    answer = requests.post(
        f"{sandbox.api_url}/company/{sandbox.realm_id}/payment",
        params={"operation": "delete", "minorversion": "75"},
        json={"Id": payment["Id"], "SyncToken": payment["SyncToken"]},
        headers={
            "Authorization": f"Bearer {sandbox.control.mint_access_token()}",
            "Accept": "application/json",
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def test_quickbooks_no_fee_for_a_period_that_started_on_a_zero_balance(qbo_live: World) -> None:
    control = qbo_live.bench.sandbox.control
    today = qbo_live.now().date()
    with qbo_live.store.sessions() as s:
        customer = next(c.provider_id for c in s.scalars(select(Customer)) if c.email)
    made = control.create_invoice(
        customer,
        [{"amount": "1000.00", "description": "Work"}],
        txn_date=(today - timedelta(days=50)).isoformat(),
        due_date=(today - timedelta(days=20)).isoformat(),
    )
    invoice = str(made["Id"])
    paid = control.add_payment([{"invoice_id": invoice}], txn_date=today.isoformat())
    qbo_live.cli("run-once", ok=False)  # syncd sees the payment
    control.advance_clock(days=45)  # a period starts on a zero balance
    qbo_live.cli("run-once", ok=False)
    delete_qbo_payment(qbo_live.bench.sandbox, paid)  # reopened
    qbo_live.cli("run-once", ok=False)
    control.advance_clock(days=30)
    qbo_live.cli("run-once", ok=False)
    fees = [
        r for r in qbo_live.outbox() if r.kind == "late_fee" and r.invoice_provider_id == invoice
    ]
    periods = {int(r.idempotency_key.rsplit(":", 1)[1]) for r in fees}
    assert 0 in periods  # started 14 days after the due date, before the payment
    assert 1 not in periods, [r.payload.get("reason") for r in fees]
