"""ChangeDataCapture through the SDK's cdc helper: changes, deletions, window, cap."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from connectors.quickbooks.sandbox import QuickBooksSandbox


def _now(sandbox: QuickBooksSandbox) -> datetime:
    return datetime.fromisoformat(sandbox.control.now())


def test_changes_and_deletions(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.advance_clock(seconds=120)
    since = _now(sandbox)
    sandbox.control.advance_clock(seconds=5)
    opened = [i for i in sandbox.control.truth()["invoices"] if i["status"] == "open"]
    paid, gone = opened[0], opened[1]
    payment = sandbox.control.add_payment([{"invoice_id": paid["id"]}])
    created = sandbox.control.create_invoice(gone["customer_id"], [{"amount": "10.00"}])
    sandbox.control.delete_invoice(created["Id"])

    cdc = change_data_capture([Invoice, Payment, Customer], since.isoformat(), qb=qb)
    invoices = {i.Id: i for i in cdc.Invoice}
    assert invoices[paid["id"]].Balance == 0
    assert invoices[created["Id"]].status == "Deleted"
    assert [p.Id for p in cdc.Payment] == [payment["Id"]]
    assert {c.Id for c in cdc.Customer} == {paid["customer_id"], gone["customer_id"]}
    assert isinstance(cdc.time, str)
    # Nothing changed before `since` is included.
    assert all(
        datetime.fromisoformat(i.MetaData.LastUpdatedTime) >= since.replace(microsecond=0)
        for i in cdc.Invoice
        if getattr(i, "status", None) != "Deleted"
    )


def test_seeded_deletions_within_window_show_up(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    since = _now(sandbox) - timedelta(days=29)
    truth = sandbox.control.truth()
    expected = {
        d["id"]
        for d in truth["deleted"]
        if d["entity"] == "Invoice" and datetime.fromisoformat(d["at"]) >= since
    }
    raw = qb.change_data_capture("Invoice", since.isoformat())
    rows = raw["CDCResponse"][0]["QueryResponse"][0].get("Invoice", [])
    deleted = {r["Id"] for r in rows if r.get("status") == "Deleted"}
    assert deleted == expected
    for row in rows:
        if row.get("status") == "Deleted":
            assert set(row) == {"domain", "status", "Id", "MetaData"}


def test_lookback_limit(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    too_old = _now(sandbox) - timedelta(days=31)
    with pytest.raises(ValidationException):
        qb.change_data_capture("Invoice", too_old.isoformat())


def test_cap_truncates_oldest_first_and_narrowing_covers_all(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    since = _now(sandbox) - timedelta(days=29)
    full = qb.change_data_capture("Invoice,Payment", since.isoformat())["CDCResponse"][0][
        "QueryResponse"
    ]
    everything = [
        (e, r["Id"]) for block in full for e in ("Invoice", "Payment") for r in block.get(e, [])
    ]
    assert len(everything) > 10
    sandbox.control.set_cdc_max_objects(10)
    collected: set[tuple[str, str]] = set()
    cursor = since
    for _ in range(100):
        resp = qb.change_data_capture("Invoice,Payment", cursor.isoformat())["CDCResponse"][0]
        rows = [
            (e, r)
            for block in resp["QueryResponse"]
            for e in ("Invoice", "Payment")
            for r in block.get(e, [])
        ]
        assert len(rows) <= 10
        stamps = [datetime.fromisoformat(r["MetaData"]["LastUpdatedTime"]) for _, r in rows]
        collected |= {(e, r["Id"]) for e, r in rows}
        if len(rows) < 10:
            break
        # Deterministic: a capped answer holds the oldest changes, so restart at the newest kept.
        assert max(stamps) > cursor
        cursor = max(stamps)
    assert collected == set(everything)
