"""A stale SyncToken is retried with a fresh read and a new request id, within bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.base import LateFee, PermanentError
from connectors.quickbooks.writes import STALE_RETRIES, attempt_key

from .conftest import Bench
from .test_qbo_connector_writes import open_invoice, qbo

FEE = LateFee(Decimal("25.00"), "USD", "Late fee")


def _invoice_posts(bench: Bench) -> list[dict[str, object]]:
    return [
        r
        for r in bench.sandbox.control.requests()
        if r["method"] == "POST" and r["path"].endswith("/invoice")
    ]


def test_three_stale_answers_in_a_row_still_end_in_exactly_one_fee(lite: Bench) -> None:
    inv = open_invoice(lite)
    lite.sandbox.control.inject_fault("stale_synctoken", count=3)
    result = qbo(lite).add_charge(inv["id"], FEE, idempotency_key="acme:9:fee")
    assert result.invoice is not None
    posts = _invoice_posts(lite)
    assert [r["status"] for r in posts] == [400, 400, 400, 200]
    ids = [r["request_id"] for r in posts]
    assert ids == [attempt_key("acme:9:fee", n) for n in range(4)] and len(set(ids)) == 4
    added = lite.sandbox.control.writes()["lines_added"]
    lines = [w for w in added if w["invoice_id"] == inv["id"]]
    assert len(lines) == 1
    # Replaying the action (say after a crash) finds the tagged line and writes nothing.
    again = qbo(lite).add_charge(inv["id"], FEE, idempotency_key="acme:9:fee")
    assert again.detail == "already applied" and len(_invoice_posts(lite)) == 4


def test_stale_answers_beyond_the_bound_fail_permanently_with_the_reason(lite: Bench) -> None:
    inv = open_invoice(lite)
    lite.sandbox.control.inject_fault("stale_synctoken", count=STALE_RETRIES + 1)
    with pytest.raises(PermanentError, match="5010"):
        qbo(lite).add_note(inv["id"], "Reminder", idempotency_key="acme:10:note")
    assert len(_invoice_posts(lite)) == STALE_RETRIES + 1
    assert not [n for n in lite.sandbox.control.writes()["notes"] if n["id"] == inv["id"]]


def test_a_long_key_gets_distinct_request_ids_within_intuits_fifty_characters(
    lite: Bench,
) -> None:
    inv = open_invoice(lite)
    key = "org-with-a-long-name:invoice-1234567890:step-final-notice:fee"
    lite.sandbox.control.inject_fault("stale_synctoken", count=1)
    qbo(lite).add_charge(inv["id"], FEE, idempotency_key=key)
    ids = [r["request_id"] for r in _invoice_posts(lite)]
    assert len(set(ids)) == 2 and all(len(str(i)) <= 50 for i in ids)
