"""Incremental passes: three calls for ordinary changes, more only when an invoice says so.

Invoices, contacts and payments are read every pass; credit notes, prepayments and
overpayments when a changed invoice names a new allocation of theirs, or when their slower
cadence is due. Whatever is skipped is read later from its own mark, and the store equals the
sandbox's books after every pass.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.xero import incremental
from tests.connectors.xero.conftest import Bench, rows_of
from tests.connectors.xero.test_xero_connector_sync import (
    assert_store_matches_truth,
    unpaid_authorised,
)


def _paths(bench: Bench, since: int) -> list[str]:
    calls = [r for r in bench.control.requests()[since:] if r["path"].startswith("/api.xro")]
    return [r["path"].rsplit("/", 1)[-1] for r in calls]


def _synced(bench: Bench, syncer: Any) -> list[str]:
    mark = len(bench.control.requests())
    report = syncer.sync()
    assert report.mode != "backfill"
    assert_store_matches_truth(bench)
    return _paths(bench, mark)


def test_payments_sync_in_three_calls_and_a_prepayment_pulls_its_stream(bench: Bench) -> None:
    syncer = bench.syncer()
    syncer.backfill()
    open_invoices = unpaid_authorised(bench.truth())
    for inv in open_invoices[:3]:
        bench.control.add_payment(inv["invoice_id"], Decimal("0.25"))
    bench.control.advance(5)
    assert sorted(_synced(bench, syncer)) == ["Contacts", "Invoices", "Payments"]

    # A deposit allocated to an invoice: the invoice names it, so prepayments are read too.
    target = open_invoices[3]
    bench.control.receive(
        "prepayment", target["contact_id"], "1.00", [(target["invoice_id"], "1.00")]
    )
    bench.control.advance(5)
    assert sorted(_synced(bench, syncer)) == [
        "Contacts",
        "Invoices",
        "Payments",
        "Prepayments",
    ]

    # Nothing named: after SECONDARY_EVERY every stream is read again, once.
    bench.control.advance(incremental.SECONDARY_EVERY.total_seconds() + 1)
    assert sorted(_synced(bench, syncer)) == sorted(
        ["Contacts", "Invoices", "Payments", "CreditNotes", "Prepayments", "Overpayments"]
    )
    bench.control.advance(5)
    assert sorted(_synced(bench, syncer)) == ["Contacts", "Invoices", "Payments"]


def test_a_credit_note_skipped_in_a_pass_is_read_when_its_stream_is_next_due(
    bench: Bench,
) -> None:
    """An unallocated credit note touches no invoice: it waits for the cadence, not lost."""
    syncer = bench.syncer()
    syncer.backfill()
    target = unpaid_authorised(bench.truth())[0]
    bench.control.receive("overpayment", target["contact_id"], "3.00", [])
    bench.control.advance(5)
    mark = len(bench.control.requests())
    syncer.sync()
    assert sorted(_paths(bench, mark)) == ["Contacts", "Invoices", "Payments"]
    bench.control.advance(incremental.SECONDARY_EVERY.total_seconds() + 1)
    assert "Overpayments" in _synced(bench, syncer)


def test_named_reads_only_new_allocations() -> None:
    from datetime import UTC, datetime

    mark = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    state: dict[str, Any] = dict.fromkeys(incremental.SECONDARY, mark)
    old, new, undated = rows_of(
        "Invoices",
        {"CreditNotes": [{"CreditNoteID": "c", "Date": "/Date(1714521600000+0000)/"}]},
        {"Prepayments": [{"PrepaymentID": "P", "Date": "2026-05-01T00:00:00"}]},
        {"Overpayments": [{"OverpaymentID": "o"}]},
    )
    assert incremental.named([old], state) == {}
    assert incremental.named([old, new], state) == {"prepayments": {"p"}}
    assert incremental.named([old, new], state, ["p"]) == {}
    assert incremental.named([undated], state) == {"overpayments": {"o"}}


def test_a_misfit_invoice_still_pulls_the_stream_it_names(bench: Bench) -> None:
    """Over HTTP: an invoice syncd skips (its lines are not a list) receives a deposit; the
    changed invoice is the only sign of it, so prepayments are read in that very pass."""
    from sqlalchemy import select

    from syncd.store.models import Payment, SkippedRecordRow

    syncer = bench.syncer()
    syncer.backfill()
    target = unpaid_authorised(bench.truth())[0]
    bench.control.raw_invoice(target["invoice_id"], LineItems="not a list of lines")
    bench.control.advance(5)
    syncer.sync()
    bench.control.advance(incremental.SECONDARY_EVERY.total_seconds() + 1)
    syncer.sync()  # every stream read once: what follows is the named read alone
    deposit = bench.control.receive(
        "prepayment", target["contact_id"], "1.00", [(target["invoice_id"], "1.00")]
    )
    bench.control.advance(5)
    mark = len(bench.control.requests())
    syncer.sync()
    assert sorted(_paths(bench, mark)) == ["Contacts", "Invoices", "Payments", "Prepayments"]
    with bench.store.sessions() as s:
        skipped = set(s.scalars(select(SkippedRecordRow.provider_id)))
        held = set(s.scalars(select(Payment.provider_id)))
    assert target["invoice_id"] in skipped
    assert str(deposit["id"]) in held


def test_named_reads_what_a_misfit_invoice_names_and_what_cannot_be_read() -> None:
    from datetime import UTC, datetime

    mark = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    state: dict[str, Any] = dict.fromkeys(incremental.SECONDARY, mark)
    misfit, odd_list, odd_entry, empty = rows_of(
        "Invoices",
        {"LineItems": "x", "Overpayments": [{"OverpaymentID": "O", "Date": "2026-05-02"}]},
        {"CreditNotes": {"CreditNoteID": "c"}},
        {"Prepayments": ["p"]},
        {"CreditNotes": None, "Prepayments": []},
    )
    assert misfit.shape is None, "the row is a misfit"
    assert incremental.named([misfit], state) == {"overpayments": {"o"}}
    assert incremental.named([odd_list], state) == {"credit_notes": set()}
    assert incremental.named([odd_entry], state) == {"prepayments": set()}
    assert incremental.named([empty], state) == {}
