"""Contract: a backfill equals the provider's truth, and incremental syncs follow every change.

Runs for every installed connector with a sandbox (see conftest.py), in each sandbox mode.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from structlog.testing import capture_logs

from connectors.base import EntityKind
from syncd.store.models import Invoice, Payment, SyncCursor

from .conftest import World


def test_backfill_equals_truth_across_pages(world: World) -> None:
    report = world.syncer().backfill()
    assert world.mismatches() == []
    assert report.pages >= 3, "several pages of 25"
    assert all(status < 400 for status in world.adapter.statuses())
    with world.store.sessions() as s:
        cursors = {c.stream: c for c in s.scalars(select(SyncCursor))}
    assert {"customers", "invoices", "payments", "changes"} <= set(cursors)
    assert all(cursors[e.value].backfill_completed_at for e in EntityKind)


def test_backfill_spaces_young_collections_only_while_it_runs(world: World) -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    connector = world.connector()
    backfill = connector.backfill

    def spy(entity: EntityKind, resume: str | None) -> Iterator[Any]:
        for page in backfill(entity, resume):
            seen.append(gc.get_threshold())
            yield page

    connector.backfill = spy
    world.syncer(connector).backfill()
    assert seen and all(t[0] == 50_000 for t in seen)
    assert gc.get_threshold() == before
    assert world.mismatches() == []


def test_backfill_leaves_postgresql_planner_statistics(world: World) -> None:
    """The first cycle follows the backfill at once: its planner must know the row counts."""
    if world.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics only")
    world.syncer().backfill()
    with world.store.sessions() as s:
        counts = dict(
            s.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class "
                    "WHERE relname IN ('customers', 'invoices', 'payments')"
                )
            ).all()
        )
        stored = s.scalar(select(func.count()).select_from(Invoice))
    # Never analysed, reltuples is -1 (autovacuum waits a minute or more for its first look).
    assert set(counts) == {"customers", "invoices", "payments"}
    assert all(value > 0 for value in counts.values()), counts
    assert counts["invoices"] == stored


def test_truth_comparison_catches_a_one_cent_difference(world: World) -> None:
    world.syncer().backfill()
    with world.store.sessions.begin() as s:
        inv = s.scalars(select(Invoice).where(Invoice.status == "open")).first()
        assert inv is not None
        inv.balance += Decimal("0.01")
    found = world.mismatches()
    assert len(found) == 1 and found[0].startswith(f"invoice {inv.provider_id}:")


def test_incremental_sync_follows_payments_edits_voids_and_deletions(world: World) -> None:
    world.syncer().backfill()
    adapter = world.adapter
    candidates = [t["id"] for t in adapter.open_invoices()]
    assert len(candidates) >= 4
    paid, partial, voided, edited = candidates[:4]
    deleted = adapter.deletable_invoice(avoid={paid, partial, voided, edited})
    adapter.advance(600)
    adapter.pay(paid)
    adapter.pay(partial, "1.00")
    adapter.void(voided)
    adapter.delete(deleted)
    adapter.edit_due_date(edited, "2026-12-24")

    report = world.syncer().sync()
    assert report.mode == "incremental"
    assert world.mismatches() == []
    with world.store.sessions() as s:
        status = dict(s.execute(select(Invoice.provider_id, Invoice.status)).all())
        due = s.scalars(select(Invoice.due_date).where(Invoice.provider_id == edited)).one()
    assert (status[paid], status[partial], status[voided], status[deleted]) == (
        "paid",
        "open",
        "voided",
        "deleted",
    )
    assert str(due) == "2026-12-24"
    # A second pass with nothing new changes nothing.
    again = world.syncer().sync()
    assert (again.result.inserted, again.result.updated) == (0, 0)


def test_deletions_reach_the_store(world: World) -> None:
    world.syncer().backfill()
    adapter = world.adapter
    gone = adapter.deletable_invoice()
    adapter.advance(60)
    adapter.delete(gone)
    payment = adapter.delete_payment()
    world.syncer().sync()
    assert world.mismatches() == []
    with world.store.sessions() as s:
        assert s.scalars(select(Invoice.status).where(Invoice.provider_id == gone)).one() == (
            "deleted"
        )
        if payment is not None:
            deleted = s.scalars(select(Payment.deleted).where(Payment.provider_id == payment))
            assert deleted.one() is True


def test_interrupted_backfill_resumes_after_the_last_committed_page(world: World) -> None:
    class Crash(Exception):
        pass

    pages = 0

    def crash_on_second_invoice_page(stream: str, _n: int, _total: int) -> None:
        nonlocal pages
        if stream == "invoices":
            pages += 1
            if pages == 2:
                raise Crash

    syncer = world.syncer()
    syncer.progress = crash_on_second_invoice_page
    with pytest.raises(Crash):
        syncer.backfill()
    with world.store.sessions() as s:
        cur = s.get(SyncCursor, (syncer.org_id, "invoices"))
        assert cur is not None and cur.backfill_resume and cur.backfill_completed_at is None
        assert s.scalars(select(Invoice)).first() is not None, "committed pages survive"
        # Streams are read concurrently: whichever finished before the crash is not re-read.
        unfinished = [
            e
            for e in (EntityKind.CUSTOMERS, EntityKind.INVOICES, EntityKind.PAYMENTS)
            if (row := s.get(SyncCursor, (syncer.org_id, e.value))) is None
            or row.backfill_completed_at is None
        ]
    connector = world.connector()
    asked: list[tuple[EntityKind, str | None]] = []
    real_backfill = connector.backfill

    def spy(entity: EntityKind, resume: str | None) -> Any:
        asked.append((entity, resume))
        return real_backfill(entity, resume)

    connector.backfill = spy
    world.syncer(connector).backfill()
    assert world.mismatches() == []
    # Complete streams are not pulled again; invoices resume at the stored cursor.
    assert [e for e, _ in asked] == unfinished and EntityKind.INVOICES in unfinished
    assert dict(asked)[EntityKind.INVOICES] == cur.backfill_resume


@pytest.mark.parametrize("corrupt", ["not json {", '{"unexpected": 1}', '["a list"]'])
def test_corrupt_resume_cursor_restarts_the_stream_with_a_warning(
    world: World, corrupt: str
) -> None:
    syncer = world.syncer()
    syncer.backfill()
    with world.store.sessions.begin() as s:
        cur = s.get(SyncCursor, (syncer.org_id, "invoices"))
        assert cur is not None
        cur.backfill_resume, cur.backfill_completed_at = corrupt, None
    with capture_logs() as logs:
        world.syncer().backfill()
    assert world.mismatches() == []
    warnings = [e for e in logs if e["event"] == "connector.resume_cursor_unreadable"]
    assert len(warnings) == 1 and warnings[0]["cursor"] == corrupt
    assert warnings[0]["log_level"] == "warning"


def test_unreadable_change_cursor_falls_back_to_a_full_pull(world: World) -> None:
    world.syncer().backfill()
    with world.store.sessions.begin() as s:
        row = s.get(SyncCursor, (world.syncer().org_id, "changes"))
        assert row is not None
        row.cursor = "not a cursor"
    report = world.syncer().sync()
    assert report.mode == "full"
    assert world.mismatches() == []
    assert world.syncer().sync().mode == "incremental"
