"""Everything a QuickBooks sandbox serves for one company, before and after writes, as bytes.

Used two ways: the test beside it compares digests with ones recorded on main's code, and it
runs as a script against any checkout, so that large companies (20,000 and 100,000 invoices)
are compared between two trees without pinning their digests in a test:

    PYTHONPATH=/path/to/other/tree python tests/sandbox_quickbooks/servedbytes.py 1:2000:US:strict

prints ``{"1:2000:US:strict": {"<part>": "<sha256>", ...}}``. The clock is frozen, so every
answer is deterministic; the envelope ``time`` is blanked all the same.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.quickbooks.sandbox.api import ApiRequest
from connectors.quickbooks.sandbox.server import HttpRequest

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
_TIME = re.compile(rb'"time":"[^"]*"')
_PORT = re.compile(rb"(?<=127\.0\.0\.1):\d+")
_KEYSET = "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"


def settings_of(label: str) -> dict[str, Any]:
    """``seed:invoices:country[:strict]`` -> QuickBooksSandbox keyword arguments."""
    seed, invoices, country, *rest = label.split(":")
    return {"seed": int(seed), "invoices": int(invoices), "country": country, "strict": bool(rest)}


def _api(sb: QuickBooksSandbox, method: str, path: str, query: dict[str, str], body: str) -> bytes:
    request = ApiRequest(method, path, {"minorversion": "75", **query}, body.encode(), "")
    response = sb.app.api.handle(request)
    return str(response.status).encode() + b" " + _TIME.sub(b'"time":""', response.body)


def _control(sb: QuickBooksSandbox, method: str, path: str, body: Any = None) -> bytes:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    url, _, query = path.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&") if part)
    request = HttpRequest(method, "/_sandbox/" + url, query, params, Message(), raw)
    response = sb.app.dispatch(request)
    assert response is not None
    return str(response.status).encode() + b" " + _PORT.sub(b":PORT", response.body)


def statements(sb: QuickBooksSandbox) -> list[str]:
    """What python-quickbooks, syncd's connector and the benchmarks ask, on this company."""
    rows = sb.company.entities
    out: list[str] = []
    for entity in ("Invoice", "Payment", "CreditMemo", "Customer"):
        stamps = sorted(r["MetaData"]["LastUpdatedTime"] for r in rows[entity].values())
        tie = collections.Counter(stamps).most_common(1)[0][0] if stamps else "2026-01-01"
        mid = stamps[len(stamps) // 3] if stamps else tie
        active = "Active IN (true, false) AND " if entity == "Customer" else ""
        out += [
            f"SELECT * FROM {entity} WHERE {active[:-5] or 'Id > 0'} {_KEYSET}",
            f"SELECT * FROM {entity} WHERE {active}MetaData.LastUpdatedTime > '{mid}' {_KEYSET}",
            f"SELECT * FROM {entity} WHERE {active}MetaData.LastUpdatedTime = '{tie}' "
            "ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
            f"SELECT * FROM {entity} WHERE {active}MetaData.LastUpdatedTime = '{tie}' "
            "AND Id > '3' ORDERBY Id STARTPOSITION 1 MAXRESULTS 3",
            f"SELECT * FROM {entity} STARTPOSITION 1 MAXRESULTS 1000",
            f"SELECT * FROM {entity} STARTPOSITION 101 MAXRESULTS 100",
            f"SELECT * FROM {entity} ORDER BY MetaData.LastUpdatedTime DESC MAXRESULTS 50",
            f"SELECT * FROM {entity}",
            f"SELECT COUNT(*) FROM {entity}",
            f"select count(*) from {entity} where MetaData.LastUpdatedTime >= '{mid}'",
        ]
        ids = sorted(rows[entity], key=int)[::7][:30] or ["1"]
        quoted = ", ".join(f"'{i}'" for i in ids)
        where = f"Id IN ({quoted})" + (" AND Active IN (true, false)" if active else "")
        out.append(f"SELECT * FROM {entity} WHERE {where} MAXRESULTS {len(ids)}")
    customer = next(iter(rows["Customer"]), "1")
    out += [
        "SELECT COUNT(*) FROM Invoice",
        "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY DueDate MAXRESULTS 300",
        f"SELECT * FROM Invoice WHERE CustomerRef = '{customer}' AND Balance > '0'",
        f"SELECT * FROM CreditMemo WHERE CustomerRef = '{customer}'",
        f"SELECT * FROM Invoice WHERE CustomerRef = '{customer}' AND MetaData.CreateTime >= "
        "'2025-01-01T00:00:00-08:00' ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT Id, Balance FROM Invoice WHERE CustomerRef = '3' MAXRESULTS 100",
        "SELECT * FROM Invoice WHERE DocNumber LIKE '10%' ORDERBY TxnDate DESC, Id",
        "SELECT * FROM Customer WHERE Active = false",
        "SELECT * FROM Customer WHERE DisplayName LIKE '%a%' ORDERBY DisplayName",
        "SELECT * FROM CustomerType WHERE Active IN (true, false) MAXRESULTS 1000",
        "SELECT * FROM CompanyInfo",
        "SELECT * FROM Item",
        "SELECT * FROM TaxCode",
        "SELECT * FROM Invoice WHERE Id = '7' OR Id = '8'",
        "SELECT * FROM Invoice WHERE Memo = 'x'",
        "SELECT * FROM Nothing",
        "SELECT * FROM Invoice MAXRESULTS 0",
        "",
    ]
    return out


def _reads(sb: QuickBooksSandbox, prefix: str) -> dict[str, bytes]:
    out = {f"{prefix} {text}": _api(sb, "POST", "query", {}, text) for text in statements(sb)}
    now = sb.company.now()
    for label, since, entities in (
        ("29d", now - timedelta(days=29), "Invoice,Payment,Customer,CreditMemo"),
        ("1h", now - timedelta(hours=1), "Invoice,Payment,Customer,CreditMemo"),
        ("invoices", now - timedelta(days=3), "Invoice"),
        ("order", now - timedelta(days=10), "CreditMemo,Customer,Payment"),
    ):
        query = {"entities": entities, "changedSince": since.isoformat()}
        out[f"{prefix} cdc {label}"] = _api(sb, "GET", "cdc", query, "")
    cap = {"cdc_max_objects": 7}
    out[f"{prefix} cdc cap"] = _control(sb, "POST", "settings", cap)
    query = {
        "entities": "Invoice,Payment,Customer",
        "changedSince": (now - timedelta(days=29)).isoformat(),
    }
    out[f"{prefix} cdc capped"] = _api(sb, "GET", "cdc", query, "")
    _control(sb, "POST", "settings", {"cdc_max_objects": 1000})
    for name in ("health", "config", "settings", "truth", "snapshot", "writes", "clock"):
        out[f"{prefix} control {name}"] = _control(sb, "GET", name)
    out[f"{prefix} control requests"] = _control(sb, "GET", "requests?since=0")
    return out


def _writes(sb: QuickBooksSandbox) -> dict[str, bytes]:
    """API writes and the business's own (control API) writes of every entity kind."""
    company = sb.company
    invoices = [i for i in company.entities["Invoice"].values() if i["Id"] not in company.voided]
    opened = [i for i in invoices if i["Balance"] > 0][:6]
    out: dict[str, bytes] = {}
    if len(opened) < 6:
        return out
    first, second, third, fourth, fifth, sixth = opened
    link = [{"TxnId": first["Id"], "TxnType": "Invoice"}]
    pay = {
        "CustomerRef": {"value": first["CustomerRef"]["value"]},
        "TotalAmt": str(first["Balance"]),
        "Line": [{"Amount": str(first["Balance"]), "LinkedTxn": link}],
    }
    out["w pay"] = _api(sb, "POST", "payment", {}, json.dumps(pay))
    note = {"Id": second["Id"], "SyncToken": second["SyncToken"], "sparse": True}
    out["w note"] = _api(sb, "POST", "invoice", {}, json.dumps({**note, "PrivateNote": "n"}))
    out["w send"] = _api(sb, "POST", f"invoice/{third['Id']}/send", {"sendTo": "a@b.example"}, "")
    customer = company.entities["Customer"][fourth["CustomerRef"]["value"]]
    rename = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True}
    out["w customer"] = _api(sb, "POST", "customer", {}, json.dumps({**rename, "Notes": "x"}))
    memo = {
        "CustomerRef": {"value": fifth["CustomerRef"]["value"]},
        "Line": [_line("3.00", sb)],
    }
    out["w memo"] = _api(sb, "POST", "creditmemo", {}, json.dumps(memo))
    void = {"Id": sixth["Id"], "SyncToken": company.get("Invoice", sixth["Id"])["SyncToken"]}
    out["w void"] = _api(sb, "POST", "invoice", {"operation": "void"}, json.dumps(void))
    out["c pay"] = _control(
        sb, "POST", "payments", {"allocations": [{"invoice_id": fourth["Id"], "amount": "1.00"}]}
    )
    out["c edit"] = _control(
        sb, "PATCH", f"invoices/{fourth['Id']}", {"add_lines": [{"amount": "2.50"}]}
    )
    out["c customer"] = _control(
        sb, "PATCH", f"customers/{customer['Id']}", {"fields": {"Notes": "y"}}
    )
    out["c credit"] = _control(
        sb,
        "POST",
        "credit-memos",
        {
            "customer_id": fifth["CustomerRef"]["value"],
            "amount": "1.00",
            "apply_to_invoice": fifth["Id"],
        },
    )
    made = _control(
        sb, "POST", "invoices", {"customer_id": customer["Id"], "lines": [{"amount": "9.00"}]}
    )
    out["c invoice"] = made
    made_id = json.loads(made.split(b" ", 1)[1])["invoice"]["Id"]
    out["c delete"] = _control(sb, "POST", f"invoices/{made_id}/delete")
    out["c get"] = _control(sb, "GET", f"invoices/{second['Id']}")
    out["c 404"] = _control(sb, "GET", "nothing/here")
    out["c bad"] = _control(sb, "POST", "customers", b"not json")
    return out


def _line(amount: str, sb: QuickBooksSandbox) -> dict[str, Any]:
    detail = {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": sb.company.default_tax_code()}}
    return {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def parts(settings: dict[str, Any]) -> dict[str, bytes]:
    sb = QuickBooksSandbox(now=NOW, **settings)
    try:
        sb.company.clock.freeze(True)
        sb.company.clock.set(NOW + timedelta(minutes=1))  # not when seeding ended (varies)
        out = _reads(sb, "before")
        out.update(_writes(sb))
        sb.company.clock.advance(61)
        out.update(_reads(sb, "after"))
        return out
    finally:
        sb.stop()


def digests(label: str) -> dict[str, str]:
    return {
        key: hashlib.sha256(value).hexdigest() for key, value in parts(settings_of(label)).items()
    }


if __name__ == "__main__":
    print(json.dumps({label: digests(label) for label in sys.argv[1:]}))
