"""Xero-only sync behaviour (keyset paging under edits, pacing to Xero's limits); the shared
sync contract is in tests/contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import Page
from connectors.xero import wire
from tests.support.xero_truth import mismatches

from .conftest import Bench


def assert_store_matches_truth(bench: Bench) -> dict[str, Any]:
    truth = bench.truth()
    with bench.store.sessions() as s:
        assert mismatches(s, truth) == []
    return truth


def unpaid_authorised(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        t
        for t in truth["invoices"]
        if t["status"] == "AUTHORISED"
        and Decimal(t["amount_paid"]) == 0
        and Decimal(t["amount_credited"]) == 0
    ]


def test_a_record_changed_mid_backfill_does_not_push_another_off_a_page(bench: Bench) -> None:
    """Offset paging in UpdatedDateUTC order would lose the first row of the next page."""
    first_page: list[str] = []
    connector = bench.connector()
    real_page = connector._page

    def spy(stream: str, rows: list[wire.Row], cursor: str | None) -> Page:
        if stream == "invoices" and not first_page:
            first_page.extend(r.field("InvoiceID") for r in rows)
            # Changed at Xero between our first and second page: it moves to the end.
            editable = [
                t["invoice_id"]
                for t in unpaid_authorised(bench.truth())
                if t["invoice_id"] in first_page
            ]
            bench.control.edit_invoice(editable[0], due_date="2026-12-31")
        return real_page(stream, rows, cursor)

    connector._page = spy  # type: ignore[method-assign]
    bench.syncer(connector).backfill()
    assert first_page
    assert_store_matches_truth(bench)


def test_sandbox_default_limits_are_never_hit(tmp_path: Any, store_url: str) -> None:
    """Small pages make more calls than Xero allows a minute: syncd must pace itself."""
    from .conftest import make_bench

    for bench in make_bench(tmp_path, store_url, invoices=120, page_size=5):
        bench.syncer().backfill()
        calls = bench.api_requests()
        assert len(calls) > 60
        assert [r for r in calls if r["status"] == 429] == []
        assert sum(bench.pace.sleeps) > 0
        assert_store_matches_truth(bench)


def test_xero_saying_the_minute_is_nearly_spent_makes_syncd_pause(bench: Bench) -> None:
    """Another app or process shares the tenant's minute: the headers, not our count, rule."""
    bench.control.limits(minute=6)
    bench.syncer().backfill()
    calls = bench.api_requests()
    assert [r for r in calls if r["status"] == 429] == []
    assert bench.pace.sleeps, "paused on X-MinLimit-Remaining"
    assert_store_matches_truth(bench)
