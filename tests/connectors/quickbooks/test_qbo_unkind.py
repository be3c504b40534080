"""syncd against a QuickBooks sandbox that makes every undocumented choice against it.

End to end through the Syncer and a real store: backfill = truth and sync = truth with shuffled
ties, bulk imports and every CDC truncation; each write exactly once after the requestid
replay window expired and with ``/send`` not deduplicated at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import EntityKind, LateFee
from connectors.quickbooks.sandbox import QuickBooksSandbox
from tests.support.quickbooks_truth import mismatches

from .conftest import Bench, make_bench
from .test_qbo_connector_writes import open_invoice, qbo


def _strict(tmp_path: Path, store_url: str, **overrides: Any) -> Iterator[Bench]:
    return make_bench(
        tmp_path,
        store_url,
        invoices=120,
        seed=13,
        sandbox_options={"strict": True, "unkind": overrides},
        page_size=40,
    )


@pytest.fixture
def strict(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    yield from _strict(tmp_path, store_url)


def assert_truth(bench: Bench) -> dict[str, Any]:
    truth = bench.sandbox.control.truth()
    with bench.store.sessions() as s:
        assert mismatches(s, truth) == []
    return truth


def test_strict_mode_turns_every_unfavourable_choice_on() -> None:
    with QuickBooksSandbox(seed=1, invoices=20, strict=True) as box:
        settings = box.control.settings()
        stamps = Counter(
            i["MetaData"]["LastUpdatedTime"] for i in box.company.entities["Invoice"].values()
        )
    assert settings["cdc_keep"] == "newest" and settings["shuffle_ties"] is True
    assert settings["replay_covers_send"] is False and settings["replay_ttl_seconds"] == 300
    assert settings["bulk_import"] is True
    assert stamps.most_common(1)[0][1] >= 300  # a migration: hundreds in one second


def test_shuffled_ties_really_change_order_between_calls(strict: Bench) -> None:
    connector = qbo(strict)
    statement = "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime MAXRESULTS 200"
    orders = {tuple(r["Id"] for r in connector._query(statement)["Invoice"]) for _ in range(3)}
    assert len(orders) > 1


def test_backfill_equals_truth_with_shuffled_ties_larger_than_a_page(strict: Bench) -> None:
    report = strict.syncer().backfill()
    truth = assert_truth(strict)
    assert len(truth["invoices"]) > 400 and report.pages > 10


def test_backfill_resumed_inside_a_tie_block_equals_truth(strict: Bench) -> None:
    connector = qbo(strict)
    pages = connector.backfill(EntityKind.INVOICES, None)
    seen: set[str] = set()
    cursor = None
    for page in pages:
        seen |= {i.provider_id for i in page.invoices}
        cursor = page.cursor
        if '"at": true' in str(cursor) and len(seen) > 200:
            break  # a crash in the middle of the migration's tie block
    assert cursor is not None and '"at": true' in cursor
    for page in qbo(strict).backfill(EntityKind.INVOICES, cursor):
        seen |= {i.provider_id for i in page.invoices}
    live = {t["id"] for t in strict.sandbox.control.truth()["invoices"]} - {
        t["id"] for t in strict.sandbox.control.truth()["invoices"] if t["status"] == "deleted"
    }
    assert seen == live


def test_corrupt_resume_cursor_restarts_the_stream_and_loses_nothing(strict: Bench) -> None:
    seen = {
        i.provider_id
        for page in qbo(strict).backfill(EntityKind.INVOICES, "{not json")
        for i in page.invoices
    }
    truth = strict.sandbox.control.truth()["invoices"]
    assert seen == {t["id"] for t in truth if t["status"] != "deleted"}


@pytest.mark.parametrize("keep", ["newest", "arbitrary", "oldest"])
def test_sync_equals_truth_whatever_a_capped_change_feed_keeps(
    tmp_path: Path, store_url: str, keep: str
) -> None:
    for bench in _strict(tmp_path, store_url, cdc_keep=keep):
        bench.syncer().backfill()
        control = bench.sandbox.control
        control.set_cdc_max_objects(25)
        control.advance_clock(seconds=60)
        open_ids = [t["id"] for t in control.truth()["invoices"] if t["status"] == "open"]
        for i, invoice_id in enumerate(open_ids[:15]):
            control.add_payment([{"invoice_id": invoice_id, "amount": "0.25"}])
            control.advance_clock(seconds=1 + i % 2)
        control.delete_invoice(open_ids[15])
        control.void_invoice(open_ids[16])
        connector = bench.connector()
        connector.cdc_cap = 25  # type: ignore[attr-defined]
        report = bench.syncer(connector).sync()
        assert report.mode == "incremental"
        assert_truth(bench)
        # More changes of one entity than the cap: a full pull with sweep, still the truth.
        for invoice_id in open_ids[17:45]:
            control.add_payment([{"invoice_id": invoice_id, "amount": "0.10"}])
        control.delete_invoice(open_ids[45])
        report = bench.syncer(connector).sync()
        assert report.mode == "full"
        assert_truth(bench)


def _count(bench: Bench, kind: str, invoice_id: str) -> int:
    return len([w for w in bench.sandbox.control.writes()[kind] if w["invoice_id"] == invoice_id])


def test_each_write_happens_once_after_the_replay_window_expired(strict: Bench) -> None:
    inv = open_invoice(strict)
    fee = LateFee(Decimal("15.00"), "USD", "Late fee")
    for _ in range(2):
        connector = qbo(strict)
        connector.add_note(inv["id"], "First reminder", idempotency_key="u:1:note")
        connector.send_provider_email(inv["id"], to=None, idempotency_key="u:1:email")
        connector.add_charge(inv["id"], fee, idempotency_key="u:1:fee")
        strict.sandbox.control.advance_clock(seconds=900)  # replay window (300 s) is gone
    assert _count(strict, "emails", inv["id"]) == 1
    assert _count(strict, "lines_added", inv["id"]) == 1
    notes = strict.sandbox.control.writes()["notes"]
    assert (
        len(
            [
                n
                for n in notes
                if "[syncd:u:1:note]" in str(n["after"])
                and n["id"] == inv["id"]
                and "[syncd:u:1:note]" not in str(n["before"])
            ]
        )
        == 1
    )


def test_a_send_that_timed_out_after_delivery_is_not_sent_again(strict: Bench) -> None:
    inv = open_invoice(strict)
    strict.sandbox.control.inject_fault("timeout", path="/send", commit=True, seconds=0.05)
    result = qbo(strict).send_provider_email(inv["id"], to=None, idempotency_key="u:2:email")
    assert result.detail is not None and "already sent" in result.detail
    assert _count(strict, "emails", inv["id"]) == 1
    # And the executor retrying the whole action later changes nothing.
    strict.sandbox.control.advance_clock(seconds=900)
    qbo(strict).send_provider_email(inv["id"], to=None, idempotency_key="u:2:email")
    assert _count(strict, "emails", inv["id"]) == 1


def test_fee_invoice_is_created_once_after_the_replay_window_expired(
    tmp_path: Path, store_url: str
) -> None:
    for bench in make_bench(
        tmp_path,
        store_url,
        invoices=40,
        seed=13,
        sandbox_options={"strict": True},
        late_fee_mode="invoice",
    ):
        inv = open_invoice(bench)
        fee = LateFee(Decimal("15.00"), "USD", "Late fee")
        first = qbo(bench).add_charge(inv["id"], fee, idempotency_key="u:3:fee")
        bench.sandbox.control.advance_clock(seconds=900)
        again = qbo(bench).add_charge(inv["id"], fee, idempotency_key="u:3:fee")
        assert again.remote_id == first.remote_id and again.detail and "exists" in again.detail
        assert len(bench.sandbox.control.writes()["invoices_created"]) == 1
