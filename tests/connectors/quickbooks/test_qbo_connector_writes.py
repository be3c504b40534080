"""QuickBooks-only write behaviour (stale SyncTokens, send without an address); idempotency
and retries of every connector are in tests/contract."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import PermanentError
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
        connector.send_provider_email(inv["id"], to=None, idempotency_key="acme:3:email")
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
        qbo(bench).send_provider_email(inv["id"], to=None, idempotency_key="acme:4:email")
    qbo(bench).send_provider_email(inv["id"], to="ap@example.test", idempotency_key="acme:5:email")
