"""The read index and the incremental balances answer exactly what a full scan answers.

Queries and CDC are served from a change-ordered index with cached row bytes, and customer
balances are kept incrementally (speed, issue 19); here every answer is compared with the
full-scan reference (``query.execute`` over every stored row, ``json`` encoding of the whole
body, balances re-added from every transaction) after seeding, after writes of every kind and
after a row is edited in place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.money import dumps
from connectors.quickbooks.sandbox.query import execute, parse
from connectors.quickbooks.sandbox.wire import parse_datetime

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)


@pytest.fixture
def company() -> Iterator[Company]:
    sandbox = QuickBooksSandbox(seed=11, invoices=400, now=NOW)
    sandbox.company.clock.freeze(True)
    yield sandbox.company
    sandbox.stop()


def _queries(company: Company) -> list[str]:
    stamps = sorted(i["MetaData"]["LastUpdatedTime"] for i in company.entities["Invoice"].values())
    tie = Counter(stamps).most_common(1)[0][0]
    mid = stamps[len(stamps) // 2]
    ids = ", ".join(f"'{i}'" for i in list(company.entities["Invoice"])[::9][:30])
    texts = []
    for entity in ("Invoice", "Payment", "CreditMemo", "Customer"):
        active = "Active IN (true, false) AND " if entity == "Customer" else ""
        texts += [
            f"SELECT * FROM {entity} MAXRESULTS 1000",
            f"SELECT * FROM {entity} STARTPOSITION 37 MAXRESULTS 50",
            f"SELECT COUNT(*) FROM {entity}",
            f"SELECT * FROM {entity} WHERE {active}MetaData.LastUpdatedTime > '{mid}' "
            "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 100",
            f"SELECT * FROM {entity} WHERE MetaData.LastUpdatedTime >= '{mid}' "
            f"AND MetaData.LastUpdatedTime < '{stamps[-5]}' ORDERBY MetaData.LastUpdatedTime",
            f"SELECT * FROM {entity} ORDERBY MetaData.LastUpdatedTime DESC MAXRESULTS 20",
            f"SELECT COUNT(*) FROM {entity} WHERE MetaData.LastUpdatedTime <= '{mid}'",
        ]
    texts += [
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{tie}' ORDERBY Id",
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{tie}' AND Id > '5' "
        "ORDERBY Id STARTPOSITION 1 MAXRESULTS 2",
        f"SELECT * FROM Invoice WHERE Id IN ({ids})",
        "SELECT * FROM Invoice WHERE Id = '7'",
        "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY DueDate MAXRESULTS 100",
        f"SELECT Id, Balance FROM Invoice WHERE MetaData.LastUpdatedTime > '{mid}' "
        "ORDERBY MetaData.LastUpdatedTime",
        "SELECT * FROM Customer WHERE Active = false",
    ]
    return texts


def _assert_same_as_scan(company: Company) -> None:
    for text in _queries(company):
        query = parse(text, company.tz)
        result = execute(query, company.entities[query.entity].values(), company.tz)
        expected = dumps(company._query_body(query, result)).encode("utf-8")
        assert company.query_response(query) == expected, text
        assert company.run_query(query) == company._query_body(query, result), text
    since = parse_datetime(
        sorted(p["MetaData"]["LastUpdatedTime"] for p in company.entities["Payment"].values())[-40],
        company.tz,
    )
    for entity in ("Invoice", "Payment", "Customer", "CreditMemo"):
        scanned = [
            row
            for row in company.entities[entity].values()
            if parse_datetime(row["MetaData"]["LastUpdatedTime"], company.tz) >= since
        ]
        entries, row = company._changed_rows(entity, since)
        indexed = [row(key) for _, _, key in entries]
        assert sorted(map(id, scanned)) == sorted(map(id, indexed)), entity
    entities = ["Invoice", "Payment", "Customer", "CreditMemo"]
    for cap in (1000, 25):
        body, _ = company.changes_since(entities, since, cap)
        assert company.cdc_response(entities, since, cap) == dumps(body).encode(), cap


def _assert_balances(company: Company) -> None:
    for customer_id, customer in company.entities["Customer"].items():
        rescanned = company.customer_balance_rescan(customer_id)
        assert company.customer_balance(customer_id) == rescanned
        assert customer["Balance"] == rescanned


def test_index_and_balances_match_a_full_scan_through_writes(company: Company) -> None:
    _assert_same_as_scan(company)
    _assert_balances(company)
    at = NOW + timedelta(minutes=1)
    open_invoices = [i for i in company.entities["Invoice"].values() if i["Balance"] > 0]
    first, second, third = open_invoices[:3]
    payment = company.create_payment(
        {
            "CustomerRef": {"value": first["CustomerRef"]["value"]},
            "TotalAmt": str(first["Balance"] + 5),
            "Line": [
                {
                    "Amount": str(first["Balance"]),
                    "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}],
                }
            ],
        },
        at=at,
    )
    current = company.get("Invoice", second["Id"])
    company.void_invoice({"Id": current["Id"], "SyncToken": current["SyncToken"]}, at=at)
    current = company.get("Invoice", third["Id"])
    company.update_invoice(
        {"Id": current["Id"], "SyncToken": current["SyncToken"], "PrivateNote": "n"},
        sparse=True,
        at=at + timedelta(seconds=1),
    )
    _assert_same_as_scan(company)
    _assert_balances(company)
    company.delete_transaction(
        "Payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, at=at
    )
    customer = next(iter(company.entities["Customer"].values()))
    company.update_customer(
        {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "Active": False},
        sparse=True,
        at=at,
    )
    _assert_same_as_scan(company)
    _assert_balances(company)
    # A row edited in place, as tests that corrupt records do, then announced.
    row = company.entities["Invoice"][third["Id"]]
    row["PrivateNote"] = "poked"
    company.touch("Invoice", third["Id"])
    _assert_same_as_scan(company)
    # A row the index cannot order (no LastUpdatedTime) sends queries to the full scan.
    del company.entities["Invoice"][third["Id"]]["MetaData"]["LastUpdatedTime"]
    company.touch("Invoice", third["Id"])
    query = parse("SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime", company.tz)
    result = execute(query, company.entities["Invoice"].values(), company.tz)
    assert company.query_response(query) == dumps(company._query_body(query, result)).encode()
