"""Writes happen once per idempotency key, survive stale SyncTokens, and retry what is transient."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.base import LateFee, PermanentError
from connectors.quickbooks.client import QuickBooksConnector

from .conftest import Bench


def open_invoice(bench: Bench, with_email: bool = True) -> dict[str, Any]:
    truth = bench.sandbox.control.truth()
    for t in truth["invoices"]:
        if t["status"] == "open" and t["currency"] == "USD" and bool(t["bill_email"]) == with_email:
            return dict(t)
    raise AssertionError("seed has no such invoice")


def qbo(bench: Bench) -> QuickBooksConnector:
    connector = bench.connector()
    assert isinstance(connector, QuickBooksConnector)
    return connector


def test_note_is_added_once_per_key_even_when_repeated(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = qbo(bench)
    first = connector.add_note(inv["id"], "Reminder 1 sent", idempotency_key="acme:1:r1")
    second = connector.add_note(inv["id"], "Reminder 1 sent", idempotency_key="acme:1:r1")
    assert first.invoice is not None and second.detail == "already applied"
    notes = [n for n in bench.sandbox.control.writes()["notes"] if n["id"] == inv["id"]]
    assert len(notes) == 1
    fresh = connector.fetch_invoice(inv["id"])
    assert fresh is not None and "[syncd:acme:1:r1] Reminder 1 sent" in fresh.raw["PrivateNote"]


def test_note_retries_once_on_a_stale_synctoken(bench: Bench) -> None:
    inv = open_invoice(bench)
    bench.sandbox.control.inject_fault("stale_synctoken", count=1)
    result = qbo(bench).add_note(inv["id"], "Second reminder", idempotency_key="acme:2:r2")
    assert result.invoice is not None
    log = bench.sandbox.control.requests()
    writes = [r for r in log if r["method"] == "POST" and r["path"].endswith("/invoice")]
    assert [r["status"] for r in writes] == [400, 200]
    assert writes[0]["request_id"] != writes[1]["request_id"]


def test_reminder_send_is_deduplicated_by_its_marker(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = qbo(bench)
    results = [
        connector.send_reminder(inv["id"], to=None, idempotency_key="acme:3:email")
        for _ in range(3)
    ]
    emails = [e for e in bench.sandbox.control.writes()["emails"] if e["invoice_id"] == inv["id"]]
    assert len(emails) == 1
    assert [r.detail is None for r in results] == [True, False, False]
    # The repeats were answered from the invoice's delivery stamp, not from a replay window.
    sends = [r for r in bench.sandbox.control.requests() if r["path"].endswith("/send")]
    assert len(sends) == 1


def test_reminder_without_any_address_is_a_permanent_error(bench: Bench) -> None:
    inv = open_invoice(bench, with_email=False)
    with pytest.raises(PermanentError):
        qbo(bench).send_reminder(inv["id"], to=None, idempotency_key="acme:4:email")
    qbo(bench).send_reminder(inv["id"], to="ap@example.test", idempotency_key="acme:5:email")


def test_late_fee_line_keeps_every_line_and_is_added_once(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = qbo(bench)
    before = connector.fetch_invoice(inv["id"])
    assert before is not None
    fee = LateFee(Decimal("15.00"), "USD", "Late fee, 30 days overdue")
    connector.add_late_fee(inv["id"], fee, idempotency_key="acme:6:fee:p1")
    connector.add_late_fee(inv["id"], fee, idempotency_key="acme:6:fee:p1")
    after = connector.fetch_invoice(inv["id"])
    assert after is not None
    assert [ln.provider_line_id for ln in after.lines[:-1]] == [
        ln.provider_line_id for ln in before.lines
    ]
    assert [ln.amount for ln in after.lines[:-1]] == [ln.amount for ln in before.lines]
    assert after.lines[-1].fee_key == "acme:6:fee:p1" and after.lines[-1].amount == fee.amount
    assert after.balance == before.balance + fee.amount
    assert after.total == before.total + fee.amount


def test_late_fee_as_a_separate_invoice(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = qbo(bench)
    connector.options = connector.options.model_copy(update={"late_fee_mode": "invoice"})
    fee = LateFee(Decimal("9.99"), "USD", "Late fee")
    result = connector.add_late_fee(inv["id"], fee, idempotency_key="acme:7:fee:p1")
    again = connector.add_late_fee(inv["id"], fee, idempotency_key="acme:7:fee:p1")
    assert result.remote_id == again.remote_id
    created = bench.sandbox.control.writes()["invoices_created"]
    assert len(created) == 1
    new = connector.fetch_invoice(str(result.remote_id))
    assert new is not None and new.total == Decimal("9.99")
    assert new.customer_provider_id == inv["customer_id"]


@pytest.mark.parametrize("kind", ["http_500", "http_503", "http_429", "malformed_json"])
def test_transient_faults_are_retried(bench: Bench, kind: str) -> None:
    bench.sandbox.control.inject_fault(kind, count=2)
    inv = open_invoice(bench)
    assert qbo(bench).fetch_invoice(inv["id"]) is not None
    assert len(bench.sleeps) == 2
    if kind == "http_429":
        assert min(bench.sleeps) >= 60  # Intuit asks for a minute's pause


def test_timeouts_are_retried(bench: Bench) -> None:
    bench.sandbox.control.inject_fault("timeout", count=1, seconds=3)
    connector = qbo(bench)
    connector.session._timeout = 1  # type: ignore[attr-defined]
    inv = open_invoice(bench)
    assert connector.fetch_invoice(inv["id"]) is not None
    assert len(bench.sleeps) == 1


def test_expired_access_token_is_refreshed_transparently(bench: Bench) -> None:
    connector = qbo(bench)
    inv = open_invoice(bench)
    assert connector.fetch_invoice(inv["id"]) is not None
    bench.sandbox.control.expire_access_tokens()
    assert connector.fetch_invoice(inv["id"]) is not None
    assert connector.tokens.refreshes == 2


def test_missing_invoice_reads_as_none(bench: Bench) -> None:
    assert qbo(bench).fetch_invoice("999999") is None
