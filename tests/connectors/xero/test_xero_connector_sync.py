"""The Xero connector, through xero-python over HTTP, against the local Xero sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import EntityKind, Page
from syncd.store.models import Invoice, Payment, SyncCursor
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


def test_backfill_equals_truth_across_pages(bench: Bench) -> None:
    report = bench.syncer().backfill()
    truth = assert_store_matches_truth(bench)
    statuses = {t["status"] for t in truth["invoices"]}
    assert {"AUTHORISED", "PAID", "VOIDED", "DELETED", "DRAFT"} <= statuses
    assert any(p["status"] == "DELETED" for p in truth["payments"])
    assert len(truth["invoices"]) > 2 * 25  # several pages of 25
    assert report.pages >= 3
    assert all(r["status"] == 200 for r in bench.api_requests())
    with bench.store.sessions() as s:
        cursors = {c.stream: c for c in s.scalars(select(SyncCursor))}
        with_lines = [i for i in s.scalars(select(Invoice)) if i.lines]
        assert {"customers", "invoices", "payments", "changes"} <= set(cursors)
        assert all(cursors[e.value].backfill_completed_at for e in EntityKind)
    assert len(with_lines) == len(truth["invoices"]), "paged invoices carry their line items"


def test_truth_comparison_catches_a_one_cent_difference(bench: Bench) -> None:
    bench.syncer().backfill()
    with bench.store.sessions.begin() as s:
        inv = s.scalars(select(Invoice).where(Invoice.status == "open")).first()
        assert inv is not None
        inv.balance += Decimal("0.01")
    with bench.store.sessions() as s:
        found = mismatches(s, bench.truth())
    assert len(found) == 1 and found[0].startswith(f"invoice {inv.provider_id}:")


def test_incremental_sync_follows_payments_edits_voids_and_deletions(bench: Bench) -> None:
    bench.syncer().backfill()
    truth = bench.truth()
    candidates = unpaid_authorised(truth)
    assert len(candidates) >= 4
    paid, partial, voided, edited = (t["invoice_id"] for t in candidates[:4])
    draft = next(t["invoice_id"] for t in truth["invoices"] if t["status"] == "DRAFT")
    live_payment = next(p for p in truth["payments"] if p["status"] == "AUTHORISED")
    control = bench.control
    control.advance(600)
    control.add_payment(paid)
    control.add_payment(partial, "1.00")
    control.void_invoice(voided)
    control.delete_invoice(draft)
    control.edit_invoice(edited, due_date="2026-12-24")
    control.delete_payment(live_payment["payment_id"])

    report = bench.syncer().sync()
    assert report.mode == "incremental"
    assert_store_matches_truth(bench)
    with bench.store.sessions() as s:
        status = {pid: st for pid, st in s.execute(select(Invoice.provider_id, Invoice.status))}
        due = s.scalars(select(Invoice.due_date).where(Invoice.provider_id == edited)).one()
        gone = s.scalars(
            select(Payment.deleted).where(Payment.provider_id == live_payment["payment_id"])
        ).one()
    assert (status[paid], status[partial], status[voided], status[draft]) == (
        "paid",
        "open",
        "voided",
        "deleted",
    )
    assert str(due) == "2026-12-24" and gone is True
    # A second pass with nothing new re-reads the overlap and changes nothing.
    again = bench.syncer().sync()
    assert (again.result.inserted, again.result.updated) == (0, 0)


def test_a_record_changed_mid_backfill_does_not_push_another_off_a_page(bench: Bench) -> None:
    """Offset paging in UpdatedDateUTC order would lose the first row of the next page."""
    first_page: list[str] = []
    connector = bench.connector()
    real_page = connector._page

    def spy(stream: str, rows: list[dict[str, Any]], cursor: str | None) -> Page:
        if stream == "invoices" and not first_page:
            first_page.extend(r["InvoiceID"] for r in rows)
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


def test_interrupted_backfill_resumes_after_the_last_committed_page(bench: Bench) -> None:
    class Crash(Exception):
        pass

    pages = 0

    def crash_on_second_invoice_page(stream: str, _n: int, _total: int) -> None:
        nonlocal pages
        if stream == "invoices":
            pages += 1
            if pages == 2:
                raise Crash

    syncer = bench.syncer()
    syncer.progress = crash_on_second_invoice_page
    with pytest.raises(Crash):
        syncer.backfill()
    with bench.store.sessions() as s:
        cur = s.get(SyncCursor, (syncer.org_id, "invoices"))
        assert cur is not None and cur.backfill_resume and cur.backfill_completed_at is None
        kept = len(s.scalars(select(Invoice)).all())
    # Two pages of 25; the second re-reads the boundary second of the first.
    assert 25 < kept <= 50, "both committed pages survive the crash"
    connector = bench.connector()
    asked: list[tuple[EntityKind, str | None]] = []
    real_backfill = connector.backfill

    def spy(entity: EntityKind, resume: str | None) -> Any:
        asked.append((entity, resume))
        return real_backfill(entity, resume)

    connector.backfill = spy  # type: ignore[method-assign]
    report = bench.syncer(connector).backfill()
    assert_store_matches_truth(bench)
    # Contacts were complete and are not pulled again; invoices resume at the stored cursor.
    assert [e for e, _ in asked] == [EntityKind.INVOICES, EntityKind.PAYMENTS]
    assert asked[0][1] == cur.backfill_resume
    assert report.result.inserted > 0 and report.result.unchanged <= 5


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


def test_unreadable_change_cursor_falls_back_to_a_full_pull(bench: Bench) -> None:
    bench.syncer().backfill()
    with bench.store.sessions.begin() as s:
        row = s.get(SyncCursor, (bench.syncer().org_id, "changes"))
        assert row is not None
        row.cursor = "not a cursor"
    report = bench.syncer().sync()
    assert report.mode == "full"
    assert_store_matches_truth(bench)
    assert bench.syncer().sync().mode == "incremental"
