"""Cached row bytes never go stale: after any write, the next page that holds the row shows it.

Query and CDC pages are joined from each row's JSON encoded once and cached until the row
changes (speed, issue 19). Every test here warms the cache by reading the pages over HTTP
first, then changes a customer, an invoice, a payment or a credit memo - through the SDK or
as the business (control API), including the changes that alter another row's rendering (a
payment's link on its invoice, the customer's balance) - and checks the next page over HTTP:
the row shows the change, and the whole body is byte for byte what a full scan (``execute``
over every stored row, the whole body encoded by ``dumps``) gives.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.money import dumps
from connectors.quickbooks.sandbox.query import execute, parse

_TIME = re.compile(rb'"time":"[^"]*"')
_STAMP_ORDER = "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"


def _post(
    sandbox: QuickBooksSandbox,
    path: str,
    data: bytes | None = None,
    *,
    method: str = "POST",
    params: dict[str, str] | None = None,
    content_type: str = "application/text",
) -> bytes:
    token = sandbox.control.mint_access_token()
    response = requests.request(
        method,
        f"{sandbox.api_url}/company/{sandbox.realm_id}/{path}",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": content_type,
        },
        params={"minorversion": "75", **(params or {})},
        data=data,
        timeout=30,
    )
    assert response.status_code == 200, response.text[:300]
    return _TIME.sub(b'"time":""', response.content)


def _served(sandbox: QuickBooksSandbox, statement: str) -> bytes:
    """The query's answer over HTTP, checked against the full-scan reference."""
    body = _post(sandbox, "query", statement.encode())
    company = sandbox.company
    query = parse(statement, company.tz)
    result = execute(query, company.entities[query.entity].values(), company.tz)
    reference = _TIME.sub(b'"time":""', dumps(company._query_body(query, result)).encode())
    assert body == reference, statement
    return body


def _row(body: bytes, entity: str, row_id: str) -> dict[str, Any]:
    rows = json.loads(body)["QueryResponse"].get(entity, [])
    found = [row for row in rows if row["Id"] == row_id]
    assert len(found) == 1, (entity, row_id)
    return dict(found[0])


def _pages(entity: str, row_id: str) -> list[str]:
    """The page kinds a row is read through: the keyset pull, the default order, by Id."""
    active = "Active IN (true, false)" if entity == "Customer" else "Id > '0'"
    return [
        f"SELECT * FROM {entity} WHERE {active} {_STAMP_ORDER}",
        f"SELECT * FROM {entity} STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM {entity} WHERE Id IN ('{row_id}')"
        + (" AND Active IN (true, false)" if entity == "Customer" else ""),
    ]


def _read_all(sandbox: QuickBooksSandbox, entity: str, row_id: str) -> list[dict[str, Any]]:
    """Each page's copy of the row, read twice so that the second read is served cached."""
    for text in _pages(entity, row_id):
        _served(sandbox, text)
    return [_row(_served(sandbox, text), entity, row_id) for text in _pages(entity, row_id)]


def _open_invoice(sandbox: QuickBooksSandbox) -> dict[str, Any]:
    truth = sandbox.control.truth()["invoices"]
    return next(i for i in truth if i["status"] == "open" and float(i["balance"]) > 5)


@pytest.fixture
def ticking(sandbox: QuickBooksSandbox) -> QuickBooksSandbox:
    """Every write lands in a later second than the seeded history's last change."""
    sandbox.control.advance_clock(seconds=90)
    return sandbox


def test_an_invoice_update_through_the_sdk_shows_on_every_page(
    ticking: QuickBooksSandbox, qb: QuickBooks
) -> None:
    invoice_id = _open_invoice(ticking)["id"]
    before = _read_all(ticking, "Invoice", invoice_id)
    invoice = Invoice.get(invoice_id, qb=qb)
    invoice.PrivateNote = "changed after the page was cached"
    invoice.save(qb=qb)
    after = _read_all(ticking, "Invoice", invoice_id)
    for old, new in zip(before, after, strict=True):
        assert new["PrivateNote"] == "changed after the page was cached"
        assert int(new["SyncToken"]) == int(old["SyncToken"]) + 1


def test_a_payment_changes_its_invoice_and_its_customer_on_the_next_pages(
    ticking: QuickBooksSandbox,
) -> None:
    target = _open_invoice(ticking)
    customer_id = target["customer_id"]
    invoices = _read_all(ticking, "Invoice", target["id"])
    customers = _read_all(ticking, "Customer", customer_id)
    payment = ticking.control.add_payment([{"invoice_id": target["id"], "amount": "1.00"}])
    for old, new in zip(invoices, _read_all(ticking, "Invoice", target["id"]), strict=True):
        assert float(new["Balance"]) == pytest.approx(float(old["Balance"]) - 1)
        linked = [link["TxnId"] for link in new.get("LinkedTxn", [])]
        assert payment["Id"] in linked
    for old, new in zip(customers, _read_all(ticking, "Customer", customer_id), strict=True):
        assert float(new["Balance"]) == pytest.approx(float(old["Balance"]) - 1)
        assert new["MetaData"]["LastUpdatedTime"] != old["MetaData"]["LastUpdatedTime"]


def test_a_payment_update_and_delete_show_on_the_next_pages(
    ticking: QuickBooksSandbox, qb: QuickBooks
) -> None:
    target = _open_invoice(ticking)
    made = ticking.control.add_payment([{"invoice_id": target["id"], "amount": "2.00"}])
    before = _read_all(ticking, "Payment", made["Id"])
    invoice_before = _read_all(ticking, "Invoice", target["id"])
    payment = Payment.get(made["Id"], qb=qb)
    payment.PrivateNote = "noted after caching"
    payment.save(qb=qb)
    for old, new in zip(before, _read_all(ticking, "Payment", made["Id"]), strict=True):
        assert new["PrivateNote"] == "noted after caching"
        assert int(new["SyncToken"]) == int(old["SyncToken"]) + 1
    payment = Payment.get(made["Id"], qb=qb)
    payment.delete(qb=qb)
    for text in _pages("Payment", made["Id"]):
        rows = json.loads(_served(ticking, text))["QueryResponse"].get("Payment", [])
        assert made["Id"] not in [row["Id"] for row in rows]
    for old, new in zip(invoice_before, _read_all(ticking, "Invoice", target["id"]), strict=True):
        assert float(new["Balance"]) == pytest.approx(float(old["Balance"]) + 2)


def test_a_customer_edit_shows_on_the_next_pages(ticking: QuickBooksSandbox) -> None:
    customer_id = _open_invoice(ticking)["customer_id"]
    before = _read_all(ticking, "Customer", customer_id)
    ticking.control.edit_customer(customer_id, {"PrimaryEmailAddr": {"Address": "new@x.example"}})
    for old, new in zip(before, _read_all(ticking, "Customer", customer_id), strict=True):
        assert new["PrimaryEmailAddr"] == {"Address": "new@x.example"}
        assert new != old


def test_a_credit_memo_applied_and_edited_shows_on_the_next_pages(
    ticking: QuickBooksSandbox,
) -> None:
    ticking.control.settings(auto_apply_credit=False)
    target = _open_invoice(ticking)
    memo = ticking.control.add_credit_memo(target["customer_id"], "3.00")
    before = _read_all(ticking, "CreditMemo", memo["Id"])
    invoice_before = _read_all(ticking, "Invoice", target["id"])
    # The business applies the credit: a zero payment linking the memo and the invoice.
    _post(
        ticking,
        "payment",
        data=json.dumps(
            {
                "CustomerRef": {"value": target["customer_id"]},
                "TotalAmt": 0,
                "Line": [
                    {"Amount": 3, "LinkedTxn": [{"TxnId": target["id"], "TxnType": "Invoice"}]},
                    {"Amount": 3, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]},
                ],
            }
        ).encode(),
        content_type="application/json",
    )
    for old, new in zip(before, _read_all(ticking, "CreditMemo", memo["Id"]), strict=True):
        assert float(old["Balance"]) == 3
        assert float(new["Balance"]) == 0
    for old, new in zip(invoice_before, _read_all(ticking, "Invoice", target["id"]), strict=True):
        assert float(new["Balance"]) == pytest.approx(float(old["Balance"]) - 3)
    current = ticking.company.get("CreditMemo", memo["Id"])
    sparse = {"Id": memo["Id"], "SyncToken": current["SyncToken"], "sparse": True}
    _post(
        ticking,
        "creditmemo",
        data=json.dumps({**sparse, "PrivateNote": "memo note"}).encode(),
        content_type="application/json",
    )
    for new in _read_all(ticking, "CreditMemo", memo["Id"]):
        assert new["PrivateNote"] == "memo note"


def test_cdc_after_writes_shows_the_new_state_and_the_deletion(ticking: QuickBooksSandbox) -> None:
    since = (ticking.company.now() - timedelta(days=2)).isoformat()
    cdc = {"entities": "Invoice,Payment,Customer,CreditMemo", "changedSince": since}
    target = _open_invoice(ticking)
    ticking.control.edit_invoice(target["id"], fields={"PrivateNote": "first edit"})
    first = _post(ticking, "cdc", method="GET", params=cdc)  # the invoice's bytes are cached
    assert b'"PrivateNote":"first edit"' in first
    ticking.control.edit_invoice(target["id"], fields={"PrivateNote": "edited for cdc"})
    created = ticking.control.create_invoice(target["customer_id"], [{"amount": "4.00"}])
    ticking.control.delete_invoice(created["Id"])
    second = _post(ticking, "cdc", method="GET", params=cdc)
    assert second != first
    body, _ = ticking.company.changes_since(
        ["Invoice", "Payment", "Customer", "CreditMemo"],
        ticking.company.now() - timedelta(days=2),
        1000,
    )
    assert second == _TIME.sub(b'"time":""', dumps(body).encode())
    (block,) = json.loads(second)["CDCResponse"]
    invoices = {row["Id"]: row for row in block["QueryResponse"][0]["Invoice"]}
    assert invoices[target["id"]]["PrivateNote"] == "edited for cdc"
    assert invoices[created["Id"]]["status"] == "Deleted"
