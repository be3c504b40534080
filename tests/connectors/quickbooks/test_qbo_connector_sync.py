"""QuickBooks-only sync behaviour (CDC cap, CDC's 30-day horizon); the shared sync contract
is in tests/contract."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from syncd.store.models import Invoice
from tests.support.quickbooks_truth import mismatches

from .conftest import Bench


def assert_store_matches_truth(bench: Bench) -> dict[str, Any]:
    truth = bench.sandbox.control.truth()
    with bench.store.sessions() as s:
        assert mismatches(s, truth) == []
    return truth


@pytest.mark.parametrize(("cap", "mode"), [(20, "incremental"), (10, "full")])
def test_capped_change_feed_never_relies_on_what_the_cap_kept(
    bench: Bench, cap: int, mode: str
) -> None:
    """A capped combined answer is asked again per entity; an entity that alone reaches the
    cap (12 invoice changes against a cap of 10) falls back to a full pull with sweep."""
    bench.syncer().backfill()
    control = bench.sandbox.control
    control.set_cdc_max_objects(cap)
    control.advance_clock(seconds=60)
    open_ids = [t["id"] for t in control.truth()["invoices"] if t["status"] == "open"]
    for i, invoice_id in enumerate(open_ids[:12]):
        control.add_payment([{"invoice_id": invoice_id, "amount": "0.50"}])
        control.advance_clock(seconds=1 + i % 2)
    connector = bench.connector()
    connector.cdc_cap = cap  # type: ignore[attr-defined]
    report = bench.syncer(connector).sync()
    assert report.mode == mode
    assert_store_matches_truth(bench)


def test_expired_change_cursor_falls_back_to_a_full_pull_with_sweep(bench: Bench) -> None:
    bench.syncer().backfill()
    control = bench.sandbox.control
    gone = next(t["id"] for t in control.truth()["invoices"] if t["status"] == "open")
    control.advance_clock(days=20)
    control.delete_invoice(gone)
    control.advance_clock(days=15)  # the change cursor is now older than CDC allows
    report = bench.syncer().sync()
    assert report.mode == "full" and report.swept >= 1
    assert_store_matches_truth(bench)
    with bench.store.sessions() as s:
        assert s.scalars(select(Invoice.status).where(Invoice.provider_id == gone)).one() == (
            "deleted"
        )
    assert bench.syncer().sync().mode == "incremental"
