"""QuickBooks credits with "Automatically apply credits" on (a new company's default): the
credit memo is applied by QuickBooks to the customer's oldest open invoice, so syncd lets it
do that only when the settled invoice *is* the oldest, and otherwise refuses before writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Credit, PermanentError
from tests.connectors.quickbooks.conftest import Bench


def _customer_with_two_open(truth: dict[str, Any]) -> list[dict[str, Any]]:
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for inv in truth["invoices"]:
        if inv["status"] == "open" and Decimal(inv["balance"]) > 2:
            by_customer.setdefault(inv["customer_id"], []).append(inv)
    for rows in by_customer.values():
        dates = {r["txn_date"] for r in rows}
        if len(rows) >= 2 and len(dates) == len(rows):
            return sorted(rows, key=lambda r: (r["txn_date"], int(r["id"])))
    raise AssertionError("no customer with two open invoices on different days")


def test_auto_applied_credit_only_on_the_oldest_open_invoice(lite: Bench) -> None:
    control = lite.sandbox.control
    assert control.settings()["auto_apply_credit"] is True
    oldest, newer = _customer_with_two_open(control.truth())[:2]
    connector = lite.connector()
    connector.options = connector.options.model_copy(update={"settlement_item_id": "1"})
    memos = len(control.truth()["credit_memos"])
    credit = Credit(Decimal("1.00"), newer["currency"], "Settlement S-9")
    with pytest.raises(PermanentError, match="oldest open invoice"):
        connector.apply_credit(newer["id"], credit, idempotency_key="qbo:settlement/9")
    assert len(control.truth()["credit_memos"]) == memos

    before = Decimal(oldest["balance"])
    result = connector.apply_credit(oldest["id"], credit, idempotency_key="qbo:settlement/8")
    assert result.invoice is not None and result.invoice.balance == before - Decimal("1.00")
    truth = control.truth()
    assert len(truth["credit_memos"]) == memos + 1
    links = [
        p for p in truth["payments"]
        if any(a["txn_id"] == result.remote_id for a in p["allocations"])
    ]  # fmt: skip
    # One zero-total payment links memo and invoice: QuickBooks' own, not a second by syncd.
    assert len(links) == 1 and Decimal(links[0]["total"]) == 0
    again = connector.apply_credit(oldest["id"], credit, idempotency_key="qbo:settlement/8")
    assert again.detail == "already applied" and len(control.truth()["credit_memos"]) == memos + 1
