"""Seeding and reading got faster (issue 19) without changing one byte of what is served.

The digests below were recorded by running this module's ``_parts`` against main at 576a427
(before the fast paths): the truth, every stored payload, twenty-odd raw query pages
(default, keyset "after"/"at", STARTPOSITION, DESC, Id IN, COUNT, projections) and a CDC page,
then a few API writes (a payment linked to an open invoice, a sparse update) and the same
pages again. If the seeded history is ever changed on purpose, record them again from the
code that made the change - never from the code under test.
"""

from __future__ import annotations

import collections
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.api import ApiRequest
from connectors.quickbooks.sandbox.money import dumps

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
_TIME = re.compile(rb'"time":"[^"]*"')

RECORDED_ON_MAIN = {
    "s1-n50-US": "237136c2a7642ad9d3046dbeb82b2df39b7d0b788b79555f7751d8a738daeda0",
    "s7-n300-US": "c3492ab0063b36d7d93168636257340a146ddebec2099debce187a7521e852c3",
    "s7-n300-CA": "7286429083b2e8ca1dbcc3459b27715bbf99c0d6413c853a3a912bf95829c2bb",
    "s7-n300-unkind": "6b6308e9e3f6add211a067c7b36f9967e75ff13f58514464fb58826d868e4f4b",
    "s11-n300-strict-GB": "05ef299f185c9bf61cdefce151ef0306da3201d4c049f0e416522e939d7cd837",
}
SETTINGS: dict[str, dict[str, Any]] = {
    "s1-n50-US": {"seed": 1, "invoices": 50},
    "s7-n300-US": {"seed": 7, "invoices": 300},
    "s7-n300-CA": {"seed": 7, "invoices": 300, "country": "CA"},
    "s7-n300-unkind": {"seed": 7, "invoices": 300, "unkind": {"bulk_import": True}},
    "s11-n300-strict-GB": {"seed": 11, "invoices": 300, "strict": True, "country": "GB"},
}


def _query(sb: QuickBooksSandbox, text: str) -> bytes:
    response = sb.app.api.handle(ApiRequest("GET", "query", {"query": text}, b"", ""))
    return str(response.status).encode() + b" " + _TIME.sub(b'"time":""', response.body)


def _statements(sb: QuickBooksSandbox) -> list[str]:
    invs = sb.company.snapshot()["entities"]["Invoice"]
    stamps = collections.Counter(i["MetaData"]["LastUpdatedTime"] for i in invs)
    tie = stamps.most_common(1)[0][0] if stamps else "2026-01-01T00:00:00-08:00"
    ordered = sorted(i["MetaData"]["LastUpdatedTime"] for i in invs)
    mid = ordered[len(ordered) // 3] if ordered else tie
    ids = [i["Id"] for i in invs][::7][:40] or ["1"]
    by_stamp = "ORDERBY MetaData.LastUpdatedTime"
    return [
        "SELECT * FROM Invoice MAXRESULTS 1000",
        f"SELECT * FROM Invoice {by_stamp} STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{mid}' {by_stamp} "
        "STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '{mid}' {by_stamp} "
        "MAXRESULTS 1000",
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{tie}' ORDERBY Id "
        "STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '{tie}' AND Id > '3' "
        "ORDERBY Id STARTPOSITION 1 MAXRESULTS 2",
        "SELECT * FROM Invoice STARTPOSITION 101 MAXRESULTS 1000",
        f"SELECT * FROM Invoice {by_stamp} STARTPOSITION 1001 MAXRESULTS 1000",
        f"SELECT * FROM Invoice {by_stamp} DESC STARTPOSITION 1 MAXRESULTS 50",
        "SELECT * FROM Invoice WHERE Id IN (" + ", ".join(f"'{i}'" for i in ids) + ")",
        "SELECT COUNT(*) FROM Invoice",
        f"SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime > '{mid}'",
        "SELECT COUNT(*) FROM Payment",
        "SELECT COUNT(*) FROM Customer",
        f"SELECT * FROM Payment {by_stamp} STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM Payment WHERE MetaData.LastUpdatedTime > '{mid}' {by_stamp} "
        "STARTPOSITION 1 MAXRESULTS 1000",
        f"SELECT * FROM Customer WHERE Active IN (true, false) {by_stamp} "
        "STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Customer MAXRESULTS 1000",
        f"SELECT * FROM CreditMemo {by_stamp} MAXRESULTS 1000",
        "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY DueDate MAXRESULTS 300",
        "SELECT Id, Balance FROM Invoice WHERE CustomerRef = '3' MAXRESULTS 100",
    ]


def _pages(sb: QuickBooksSandbox, prefix: str) -> dict[str, bytes]:
    out = {f"{prefix} {text}": _query(sb, text) for text in _statements(sb)}
    since = (NOW - timedelta(days=29)).isoformat()
    query = {"entities": "Invoice,Payment,Customer,CreditMemo", "changedSince": since}
    response = sb.app.api.handle(ApiRequest("GET", "cdc", query, b"", ""))
    out[f"{prefix} cdc"] = (
        str(response.status).encode() + b" " + _TIME.sub(b'"time":""', response.body)
    )
    return out


def _writes(sb: QuickBooksSandbox) -> bytes:
    company = sb.company
    at = NOW + timedelta(minutes=5)
    invoices = company.snapshot()["entities"]["Invoice"]
    opened = [i for i in invoices if i["Balance"] > 0 and i["Id"] not in company.voided]
    written = []
    for inv in opened[:3]:
        balance = str(inv["Balance"])
        link = [{"TxnId": inv["Id"], "TxnType": "Invoice"}]
        body = {
            "CustomerRef": {"value": inv["CustomerRef"]["value"]},
            "TotalAmt": balance,
            "Line": [{"Amount": balance, "LinkedTxn": link}],
        }
        written.append(dumps(company.create_payment(body, at=at)))
        cur = company.get("Invoice", inv["Id"])
        update = {"Id": cur["Id"], "SyncToken": cur["SyncToken"], "sparse": True}
        update["PrivateNote"] = "x"
        updated = company.update_invoice(update, sparse=True, at=at + timedelta(seconds=1))
        written.append(dumps(updated))
    return dumps(written).encode()


def _truth(sb: QuickBooksSandbox) -> bytes:
    truth = sb.company.truth()
    truth.pop("now")
    return dumps(truth).encode()


def _parts(settings: dict[str, Any]) -> dict[str, bytes]:
    sb = QuickBooksSandbox(now=NOW, **settings)
    try:
        parts = {"truth": _truth(sb), "snapshot": dumps(sb.company.snapshot()).encode()}
        parts.update(_pages(sb, "page"))
        parts["writes"] = _writes(sb)
        parts["truth-after"] = _truth(sb)
        parts.update(_pages(sb, "after"))
        return parts
    finally:
        sb.stop()


@pytest.mark.parametrize("label", sorted(RECORDED_ON_MAIN))
def test_served_bytes_are_the_ones_main_served(label: str) -> None:
    parts = _parts(SETTINGS[label])
    digests = "".join(hashlib.sha256(value).hexdigest() for value in parts.values())
    assert hashlib.sha256(digests.encode()).hexdigest() == RECORDED_ON_MAIN[label]
