"""The connector under every unkind sandbox mode: it loses nothing and does nothing twice.

Each mode is the unfavourable answer to something Xero does not document (see
connectors/xero/sandbox/modes.py): shuffled ties, bulk imports sharing one UpdatedDateUTC,
Idempotency-Key replay that expires (here: at once, TTL 0) and an /Email endpoint that ignores
the key. The writes are driven into the ambiguous case on purpose with a ``lost`` fault
(Xero does the work, the answer never arrives) or a failure after the provider email.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import LateFee, TransientError
from tests.support.xero_truth import mismatches

from .conftest import Bench, make_bench
from .test_xero_connector_writes import notes_on, open_invoice


def _bench(tmp_path: Path, store_url: str, **sandbox: Any) -> Iterator[Bench]:
    yield from make_bench(tmp_path, store_url, page_size=25, sandbox_options=sandbox)


@pytest.fixture
def strict(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    """Every unkind mode on, a 240-invoice bulk import among 60 seeded invoices."""
    yield from _bench(tmp_path, store_url, strict=True)


@pytest.fixture
def forgetful(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    """Keys are never replayed (the window has always expired) and /Email ignores them."""
    yield from _bench(tmp_path, store_url, idempotency_ttl=0, email_idempotent=False)


def assert_truth(bench: Bench) -> None:
    with bench.store.sessions() as s:
        assert mismatches(s, bench.truth()) == []


def test_strict_backfill_equals_truth_through_a_bulk_import(strict: Bench) -> None:
    truth = strict.truth()
    stamps = [i["updated_ms"] for i in truth["invoices"]]
    tied = max(stamps.count(s) for s in set(stamps))
    assert tied >= 200, "the bulk import shares one UpdatedDateUTC"
    strict.syncer().backfill()
    assert_truth(strict)
    windows = [r for r in strict.api_requests() if "UpdatedDateUTC<DateTime" in str(r["query"])]
    assert windows, "the tied second was read as one window, not paged"


def test_strict_sync_equals_truth_after_a_bulk_import_and_payments(strict: Bench) -> None:
    strict.syncer().backfill()
    imported = strict.control.bulk_import(300, seed=3)
    unpaid = [
        i for i in imported["invoices"] if strict.control.invoice(i)["status"] == "AUTHORISED"
    ]
    for invoice_id in unpaid[:5]:
        strict.control.add_payment(invoice_id, "10.00")
    strict.control.advance(120)
    strict.syncer().sync()
    assert_truth(strict)


def test_a_reminder_whose_answer_is_lost_is_emailed_once(forgetful: Bench) -> None:
    """Before: tenacity resent the email after the dropped answer: two emails."""
    inv = open_invoice(forgetful)
    forgetful.control.add_fault("lost", method="POST", path="/api.xro/2.0/Invoices/")
    result = forgetful.connector().send_provider_email(
        inv["invoice_id"], to=None, idempotency_key="acme:9:email"
    )
    assert result.remote_id == inv["invoice_id"]
    emails = [
        e for e in forgetful.control.writes()["emails"] if e["invoice_id"] == inv["invoice_id"]
    ]
    assert len(emails) == 1
    assert notes_on(forgetful, inv["invoice_id"]) == [
        "[syncd:acme:9:email] reminder about to be emailed by Xero",
        "[syncd:acme:9:email] reminder emailed by Xero",
    ]


def test_a_reminder_interrupted_after_the_email_is_not_sent_again(forgetful: Bench) -> None:
    """Before: the email went, the marker write failed, the retry emailed again."""
    inv = open_invoice(forgetful)
    history = f"/api.xro/2.0/Invoices/{inv['invoice_id']}/History"
    forgetful.control.add_fault("500", method="PUT", path=history, skip=1, count=50)
    connector = forgetful.connector()
    with pytest.raises(TransientError):
        connector.send_provider_email(inv["invoice_id"], to=None, idempotency_key="acme:10:email")
    forgetful.control.clear_faults()
    forgetful.control.advance(3600)  # a later run, long after any replay window
    again = forgetful.connector().send_provider_email(
        inv["invoice_id"], to=None, idempotency_key="acme:10:email"
    )
    assert again.detail == "already applied"
    emails = [
        e for e in forgetful.control.writes()["emails"] if e["invoice_id"] == inv["invoice_id"]
    ]
    assert len(emails) == 1
    third = forgetful.connector().send_provider_email(
        inv["invoice_id"], to=None, idempotency_key="acme:10:email"
    )
    assert third.detail == "already applied"
    assert len(notes_on(forgetful, inv["invoice_id"])) == 2


def test_a_reminder_whose_intent_was_written_but_email_never_sent_is_sent(
    forgetful: Bench,
) -> None:
    inv = open_invoice(forgetful)
    forgetful.control.add_fault("503", method="POST", path="/api.xro/2.0/Invoices/", count=50)
    with pytest.raises(TransientError):
        forgetful.connector().send_provider_email(
            inv["invoice_id"], to=None, idempotency_key="acme:11:email"
        )
    assert forgetful.control.writes()["emails"] == []
    forgetful.control.clear_faults()
    forgetful.connector().send_provider_email(
        inv["invoice_id"], to=None, idempotency_key="acme:11:email"
    )
    emails = [
        e for e in forgetful.control.writes()["emails"] if e["invoice_id"] == inv["invoice_id"]
    ]
    assert len(emails) == 1


def test_a_note_whose_answer_is_lost_is_written_once(forgetful: Bench) -> None:
    """Before: the retry after the dropped answer wrote the note a second time."""
    inv = open_invoice(forgetful)
    forgetful.control.add_fault("lost", method="PUT", path="/api.xro/2.0/Invoices/")
    forgetful.connector().add_note(inv["invoice_id"], "Reminder 1", idempotency_key="acme:12:n")
    assert notes_on(forgetful, inv["invoice_id"]) == ["[syncd:acme:12:n] Reminder 1"]


@pytest.mark.parametrize("mode", ["line", "invoice"])
def test_a_fee_whose_answer_is_lost_is_charged_once(forgetful: Bench, mode: str) -> None:
    """Before (invoice mode): the retry created a second fee invoice."""
    inv = open_invoice(forgetful)
    connector = forgetful.connector()
    connector.options = connector.options.model_copy(update={"late_fee_mode": mode})
    method = "POST" if mode == "line" else "PUT"
    forgetful.control.add_fault("lost", method=method, path="/api.xro/2.0/Invoices")
    fee = LateFee(Decimal("25.00"), inv["currency"], "Late payment fee")
    result = connector.add_charge(inv["invoice_id"], fee, idempotency_key=f"acme:13:{mode}")
    assert result.invoice is not None
    forgetful.control.advance(3600)
    again = connector.add_charge(inv["invoice_id"], fee, idempotency_key=f"acme:13:{mode}")
    assert again.detail == "already applied"
    writes = forgetful.control.writes()
    if mode == "invoice":
        assert len(writes["created_invoices"]) == 1
    else:
        row = forgetful.sandbox.org.invoices[inv["invoice_id"]]
        tagged = [ln for ln in row.line_items if "[syncd:acme:13:line]" in ln.description]
        assert len(tagged) == 1


def test_strict_writes_happen_once_end_to_end(strict: Bench) -> None:
    """Backfill, then one of each write twice, with the replay window expired in between."""
    strict.syncer().backfill()
    inv = open_invoice(strict)
    fee = LateFee(Decimal("12.50"), inv["currency"], "Late fee")
    for _ in range(2):
        connector = strict.connector()
        connector.add_note(inv["invoice_id"], "Reminder", idempotency_key="s:note")
        connector.send_provider_email(inv["invoice_id"], to=None, idempotency_key="s:email")
        connector.add_charge(inv["invoice_id"], fee, idempotency_key="s:fee")
        strict.control.advance(3600)  # past the strict 60 s replay window
    writes = strict.control.writes()
    assert len([e for e in writes["emails"] if e["invoice_id"] == inv["invoice_id"]]) == 1
    assert len(notes_on(strict, inv["invoice_id"])) == 3  # note, intent, done
    row = strict.sandbox.org.invoices[inv["invoice_id"]]
    assert len([ln for ln in row.line_items if "[syncd:s:fee]" in ln.description]) == 1
    strict.syncer().sync()
    assert_truth(strict)
