"""The QuickBooks connector, through python-quickbooks over HTTP, against the local sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import EntityKind
from syncd.store.models import Invoice, SyncCursor
from tests.support.quickbooks_truth import mismatches

from .conftest import Bench


def assert_store_matches_truth(bench: Bench) -> dict[str, Any]:
    truth = bench.sandbox.control.truth()
    with bench.store.sessions() as s:
        assert mismatches(s, truth) == []
    return truth


def test_backfill_equals_truth_across_pages(bench: Bench) -> None:
    report = bench.syncer().backfill()
    truth = assert_store_matches_truth(bench)
    open_invoices = [t for t in truth["invoices"] if t["status"] == "open"]
    assert open_invoices, "the seed has open invoices"
    assert report.pages >= 120 // 40  # several pages of 40
    assert not bench.sandbox.control.requests() or all(
        r["status"] < 400 for r in bench.sandbox.control.requests()
    )
    with bench.store.sessions() as s:
        cursors = {c.stream: c for c in s.scalars(select(SyncCursor))}
    assert {"customers", "invoices", "payments", "changes"} <= set(cursors)
    assert all(cursors[e.value].backfill_completed_at for e in EntityKind)


def test_truth_comparison_catches_a_wrong_balance(bench: Bench) -> None:
    bench.syncer().backfill()
    with bench.store.sessions.begin() as s:
        inv = s.scalars(select(Invoice).where(Invoice.status == "open")).first()
        assert inv is not None
        inv.balance += Decimal("0.01")
    with bench.store.sessions() as s:
        found = mismatches(s, bench.sandbox.control.truth())
    assert len(found) == 1 and found[0].startswith(f"invoice {inv.provider_id}:")


def test_incremental_sync_follows_payments_edits_voids_and_deletions(bench: Bench) -> None:
    bench.syncer().backfill()
    truth = bench.sandbox.control.truth()
    open_ids = [t["id"] for t in truth["invoices"] if t["status"] == "open"]
    assert len(open_ids) >= 4
    paid, partial, voided, deleted = open_ids[:4]
    control = bench.sandbox.control
    control.advance_clock(seconds=600)
    full = next(t for t in truth["invoices"] if t["id"] == paid)["balance"]
    control.add_payment([{"invoice_id": paid, "amount": full}])
    control.add_payment([{"invoice_id": partial, "amount": "1.00"}])
    control.void_invoice(voided)
    control.delete_invoice(deleted)
    control.edit_invoice(open_ids[4], fields={"DueDate": "2026-12-24"})
    control.create_customer(
        {"DisplayName": "Newcomer Ltd", "PrimaryEmailAddr": {"Address": "ap@newcomer.test"}}
    )

    report = bench.syncer().sync()
    assert report.mode == "incremental"
    assert_store_matches_truth(bench)
    with bench.store.sessions() as s:
        status = {pid: st for pid, st in s.execute(select(Invoice.provider_id, Invoice.status))}
    assert (status[paid], status[partial], status[voided], status[deleted]) == (
        "paid",
        "open",
        "voided",
        "deleted",
    )
    # A second pass with nothing new changes nothing.
    again = bench.syncer().sync()
    assert (again.result.inserted, again.result.updated) == (0, 0)


def test_interrupted_backfill_resumes_after_the_last_committed_page(bench: Bench) -> None:
    class Crash(Exception):
        pass

    pages = 0

    def crash_after_three(stream: str, _n: int, _total: int) -> None:
        nonlocal pages
        pages += 1
        if stream == "invoices" and pages >= 4:
            raise Crash

    syncer = bench.syncer()
    syncer.progress = crash_after_three
    with pytest.raises(Crash):
        syncer.backfill()
    with bench.store.sessions() as s:
        cur = s.get(SyncCursor, (syncer.org_id, "invoices"))
        assert cur is not None and cur.backfill_resume and cur.backfill_completed_at is None
        kept = s.scalars(select(Invoice)).all()
    assert kept, "committed pages survive the crash"
    connector = bench.connector()
    asked: list[tuple[EntityKind, str | None]] = []
    real_backfill = connector.backfill

    def spy(entity: EntityKind, resume: str | None) -> Any:
        asked.append((entity, resume))
        return real_backfill(entity, resume)

    connector.backfill = spy  # type: ignore[method-assign]
    report = bench.syncer(connector).backfill()
    assert_store_matches_truth(bench)
    # Customers were complete and are not pulled again; invoices resume at the stored cursor.
    assert [e for e, _ in asked] == [EntityKind.INVOICES, EntityKind.PAYMENTS]
    assert asked[0][1] == cur.backfill_resume
    assert report.result.inserted > 0 and report.result.unchanged <= 40


def test_rotated_refresh_token_is_stored_and_used_by_the_next_process(bench: Bench) -> None:
    bench.syncer().backfill()
    configured = bench.config.connectors["qbo"].credentials.refresh_token.get_secret_value()  # type: ignore[attr-defined]
    assert bench.sandbox.org_config()["refresh_token"] != configured  # it rotated
    bench.sandbox.control.expire_access_tokens()
    # A new connector (as after a restart) must refresh with the stored, rotated token: the
    # configured one is dead by now.
    report = bench.syncer().sync()
    assert report.mode == "incremental"
    log = bench.sandbox.control.requests()
    assert any(r["status"] == 401 for r in log)


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
