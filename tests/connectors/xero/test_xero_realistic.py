"""Realistic ledgers: lock dates, deposits and overpayments, UK / AU / US editions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.base import FindingSeverity, LateFee
from syncd.store.models import Invoice, Payment
from tests.support.xero_truth import mismatches

from .conftest import Bench, make_bench
from .test_xero_connector_writes import open_invoice


def test_a_fee_on_an_invoice_in_a_locked_period_goes_on_a_fee_invoice(bench: Bench) -> None:
    inv = open_invoice(bench)
    lock = date.fromisoformat(inv["date"]) + timedelta(days=1)
    bench.control.lock_dates(end_of_year_lock_date=lock)
    connector = bench.connector()
    fee = LateFee(Decimal("30.00"), inv["currency"], "Late payment fee")
    result = connector.add_charge(inv["invoice_id"], fee, idempotency_key="lk:1")
    assert result.invoice is not None and result.invoice.provider_id != inv["invoice_id"]
    assert result.detail is not None
    assert "could not take a fee line" in result.detail and "end of year lock date" in result.detail
    assert result.invoice.total == Decimal("30.00")
    assert result.invoice.issue_date == bench.clock.now().date()  # dated after the lock
    original = bench.control.invoice(inv["invoice_id"])
    assert original["total"] == inv["total"], "the locked invoice is untouched"
    again = connector.add_charge(inv["invoice_id"], fee, idempotency_key="lk:1")
    assert again.detail == "already applied"
    assert len(bench.control.writes()["created_invoices"]) == 1
    findings = {f.check: f for f in connector.preflight()}
    assert findings["lock_date"].severity is FindingSeverity.WARNING
    assert lock.isoformat() in findings["lock_date"].detail


def test_deposits_and_overpayments_reconcile_invoice_balances(bench: Bench) -> None:
    truth = bench.truth()
    assert {p["kind"] for p in truth["prepaid"]} == {"prepayment", "overpayment"}
    bench.syncer().backfill()
    with bench.store.sessions() as s:
        assert mismatches(s, bench.truth()) == []
    # A new deposit, allocated after the backfill, reaches the store by the next sync.
    inv = open_invoice(bench)
    half = (Decimal(inv["total"]) / 2).quantize(Decimal("0.01"))
    deposit = bench.control.receive(
        "prepayment", inv["contact_id"], half + 100, [(inv["invoice_id"], half)]
    )
    bench.control.advance(120)
    bench.syncer().sync()
    with bench.store.sessions() as s:
        assert mismatches(s, bench.truth()) == []
        row = s.scalars(select(Invoice).where(Invoice.provider_id == inv["invoice_id"])).one()
        assert row.balance == Decimal(inv["total"]) - half
        paid = s.scalars(select(Payment).where(Payment.provider_id == deposit["id"])).one()
        assert paid.unapplied == Decimal("100.00")
        assert [(a.invoice_provider_id, a.amount) for a in paid.allocations] == [
            (inv["invoice_id"], half)
        ]


@pytest.fixture(params=["UK", "AU", "US"])
def edition(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[Bench]:
    region = str(request.param)
    tax = {"UK": "NONE", "AU": "BASEXCLUDED", "US": "NONE"}[region]
    yield from make_bench(
        tmp_path,
        store_url,
        region=region,
        page_size=50,
        late_fee_account_code="260",
        late_fee_tax_type=tax,
        home_currency={"UK": "GBP", "AU": "AUD", "US": "USD"}[region],
    )


def test_each_edition_syncs_to_truth_and_takes_a_fee(edition: Bench) -> None:
    connector = edition.connector()
    assert all(f.severity is not FindingSeverity.ERROR for f in connector.preflight())
    info = connector.company_info()
    assert info.base_currency == edition.truth()["home_currency"]
    edition.syncer().backfill()
    with edition.store.sessions() as s:
        assert mismatches(s, edition.truth()) == []
    inv = open_invoice(edition)
    fee = LateFee(Decimal("20.00"), inv["currency"], "Late fee")
    result = connector.add_charge(inv["invoice_id"], fee, idempotency_key="ed:1")
    assert result.invoice is not None
    fee_line = next(ln for ln in result.invoice.lines if ln.fee_key == "ed:1")
    assert fee_line.amount == Decimal("20.00")
