"""Everything a Xero sandbox serves for one organisation, before and after writes, as digests.

Run against any checkout, to compare two trees' served bytes (the digests must be equal):

    PYTHONPATH=/path/to/tree python tests/sandbox_xero/servedbytes.py 1:2000:NZ:strict ...

prints ``{"1:2000:NZ:strict": {"<part>": "<sha256>", ...}}``. The clock is frozen and new
records' ids come from a counter, so every answer is deterministic; envelope ids are blanked.
Strict mode is run without shuffled ties (those are random by design).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

from connectors.xero.sandbox import XeroSandbox
from connectors.xero.sandbox.api import ApiRequest
from connectors.xero.sandbox.clock import SandboxClock
from connectors.xero.sandbox.organisation import Organisation

NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
_ID = re.compile(rb'"(Id|Instance)":"[^"]*"')
_SINCE_JAN = "Date>=DateTime(2026,1,1)"
STATUSES = "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED"
_COUNTER = itertools.count(1)


def _new_id() -> str:
    return f"00000000-0000-4000-8000-{next(_COUNTER):012d}"


Organisation.new_id = staticmethod(_new_id)  # type: ignore[method-assign]
# The sandbox clock adds real elapsed time to its start: frozen here (advanced only on purpose).
SandboxClock.__init__.__defaults__ = (lambda: 0.0,)


def _api(sb: XeroSandbox, method: str, path: str, params: dict[str, str], **kw: Any) -> bytes:
    headers = {k.lower(): v for k, v in kw.get("headers", {}).items()}
    body = json.dumps(kw["body"]).encode() if "body" in kw else b""
    reply = sb.dispatcher.api.handle(ApiRequest(method, path.split("/"), params, headers, body))
    return str(reply.status).encode() + b" " + _ID.sub(rb'"\1":""', reply.body)


def _control(sb: XeroSandbox, method: str, path: str, body: Any = None) -> Any:
    raw = json.dumps(body).encode() if body is not None else b""
    reply = sb.dispatcher.control.handle(method, "/_sandbox/" + path, {}, raw)
    assert reply.status in (200, 204), reply.body[:300]
    return json.loads(reply.body) if reply.body else None


def _gets(sb: XeroSandbox) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(path, params, headers): what syncd, the SDK and the tests ask, on this organisation."""
    org = sb.org
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    kinds = {
        "Invoices": (org.invoices, 'Type=="ACCREC"', {"statuses": STATUSES}),
        "Contacts": (org.contacts, "IsCustomer==true", {"includearchived": "true"}),
        "Payments": (org.payments, 'PaymentType=="ACCRECPAYMENT"', {}),
        "CreditNotes": (org.credit_notes, 'Type=="ACCRECCREDIT"', {}),
    }
    order = {"order": "UpdatedDateUTC ASC"}
    for path, (table, where, extra) in kinds.items():
        stamps = sorted(r.updated for r in table.values())
        mid = stamps[len(stamps) // 3].isoformat() if stamps else NOW.isoformat()
        since = {"if-modified-since": mid}
        big = {"pagesize": "1000"}
        out += [
            (path, {}, {}),
            (path, {"page": "1"}, {}),
            (path, {"page": "2", "pagesize": "37"}, {}),
            (path, {"page": "1", **big, **order, "where": where, **extra}, {}),
            (path, {"page": "2", **big, **order, "where": where, **extra}, since),
            (path, {"page": "1", **big, **order, "where": where, **extra}, since),
            (path, {"page": "999", **big}, {}),
            (path, {"page": "1", **big, "order": "UpdatedDateUTC DESC"}, {}),
            (path, {"page": "1", **big, "where": 'Status=="AUTHORISED"'}, {}),
            (path, {"page": "1", **big, "order": "Date DESC", "where": _SINCE_JAN}, {}),
            (path, {}, since),
            (path, {**extra}, since),
        ]
        ids = sorted(table)[::7][:30]
        if path in ("Invoices", "Contacts"):
            named = ",".join([*ids, "00000000-0000-0000-0000-000000000001"])
            out.append((path, {"ids": named, "page": "1", "pagesize": "40", **extra}, {}))
            out.append((path, {"ids": named.upper()}, {}))
        elif ids:
            field = "PaymentID" if path == "Payments" else "CreditNoteID"
            w = " OR ".join(f'{field}==Guid("{i}")' for i in ids[:20])
            out.append((path, {"where": w, "page": "1", "pagesize": "21"}, {}))
        out += [(f"{path}/{i}", {}, {}) for i in ids[:5]]
    return out + _misc(sb)


def _misc(sb: XeroSandbox) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """Filters, orders and endpoints beyond the per-collection ones."""
    org = sb.org
    some = sorted(org.invoices)[::11][:3]
    contact = sorted(org.contacts)[2]
    out = [
        ("Invoices", {"statuses": "AUTHORISED,PAID", "page": "3", "pagesize": "100"}, {}),
        ("Invoices", {"summaryonly": "true", "page": "1", "pagesize": "1000"}, {}),
        ("Invoices", {"contactids": contact, "page": "1"}, {}),
        ("Invoices", {"invoicenumbers": ",".join(org.invoices[i].number for i in some)}, {}),
        ("Invoices", {"searchterm": "INV-00", "page": "2"}, {}),
        ("Invoices", {"createdbymyapp": "true"}, {}),
        ("Invoices", {"page": "1", "order": "Total DESC,InvoiceNumber", "pagesize": "500"}, {}),
        ("Invoices", {"page": "1", "where": "AmountDue>100 AND Contact.Name!=null"}, {}),
        ("Contacts", {"summaryonly": "true", "page": "1", "pagesize": "1000"}, {}),
        ("Contacts", {"searchterm": "ltd", "includearchived": "true"}, {}),
        ("Contacts", {"page": "1", "order": "Name"}, {}),
        ("Payments", {"page": "1", "where": "Amount>50", "order": "Amount DESC"}, {}),
        ("Prepayments", {"page": "1"}, {}),
        ("Overpayments", {"page": "1"}, {}),
        ("Organisation", {}, {}),
        ("Invoices/bogus", {}, {}),
        ("Invoices", {"where": 'Type=="ACCREC" AND'}, {}),
        ("Invoices", {"ids": "not-a-guid"}, {}),
    ]
    if org.invoices:
        out.append((f"Invoices/{org.invoices[some[0]].number}", {}, {}))
    return out


def _digest_gets(sb: XeroSandbox, label: str, into: dict[str, str]) -> None:
    whole = hashlib.sha256()
    for path, params, headers in _gets(sb):
        body = _api(sb, "GET", path, params, headers=headers)
        whole.update(body)
        into[f"{label} GET {path} {sorted(params.items())} {sorted(headers.items())}"] = (
            hashlib.sha256(body).hexdigest()
        )
    into[f"{label} all"] = whole.hexdigest()


def _open(sb: XeroSandbox, skip: int = 0) -> str:
    rows = [
        i.invoice_id
        for i in sorted(sb.org.invoices.values(), key=lambda i: i.invoice_id)
        if i.type == "ACCREC" and i.status == "AUTHORISED" and not i.allocations
    ]
    return rows[skip]


def _writes(sb: XeroSandbox) -> list[tuple[str, Any]]:
    """Write groups; each is followed by every GET again."""
    org = sb.org
    contact = sorted(c for c, v in org.contacts.items() if v.is_customer)[3]
    line = {"Description": "Widget", "Quantity": 2, "UnitAmount": 12.5, "AccountCode": "200"}

    def pay() -> None:
        _control(sb, "POST", "payments", {"invoice_id": _open(sb), "amount": "10.00"})
        _control(sb, "POST", f"invoices/{_open(sb, 1)}/void")

    def create() -> None:
        body = {
            "Invoices": [
                {"Type": "ACCREC", "Contact": {"ContactID": contact}, "LineItems": [line]},
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact},
                    "Status": "AUTHORISED",
                    "Date": "2026-04-01",
                    "DueDate": "2026-04-20",
                    "LineItems": [line],
                },
            ]
        }
        _api(sb, "PUT", "Invoices", {}, body=body)
        note = {"HistoryRecords": [{"Details": "hi"}]}
        _api(sb, "POST", f"Invoices/{_open(sb, 2)}/History", {}, body=note)

    def credit() -> None:
        target = _open(sb, 3)
        body = {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": org.invoices[target].contact_id},
                    "Status": "AUTHORISED",
                    "LineItems": [line],
                }
            ]
        }
        answer = json.loads(_api(sb, "PUT", "CreditNotes", {}, body=body).split(b" ", 1)[1])
        note = answer["CreditNotes"][0]["CreditNoteID"]
        one = {"Amount": 5, "Invoice": {"InvoiceID": target}, "Date": "2026-05-05"}
        alloc = {"Allocations": [one]}
        _api(sb, "PUT", f"CreditNotes/{note}/Allocations", {}, body=alloc)

    def edit() -> None:
        _control(sb, "PATCH", f"contacts/{contact}", {"name": "Renamed <&> \u00e9"})
        _control(sb, "POST", f"raw/invoices/{_open(sb, 4)}", {"Reference": None, "Future": 7})
        _control(sb, "POST", "clock", {"advance_seconds": 86400 * 45})

    return [("pay", pay), ("create", create), ("credit", credit), ("edit", edit)]


def digests(label: str) -> dict[str, str]:
    seed, invoices, region, *rest = label.split(":")
    strict = bool(rest)
    sb = XeroSandbox(
        seed=int(seed),
        invoices=int(invoices),
        region=region,
        now=NOW,
        strict=strict,
        shuffle_ties=False if strict else None,
    )
    out: dict[str, str] = {}
    _digest_gets(sb, "start", out)
    _digest_gets(sb, "again", out)  # served from kept texts
    for name, write in _writes(sb):
        write()
        _digest_gets(sb, name, out)
    out["truth"] = hashlib.sha256(json.dumps(org_truth(sb), sort_keys=True).encode()).hexdigest()
    return out


def org_truth(sb: XeroSandbox) -> Any:
    return json.loads(json.dumps(sb.org.truth(), default=str))


if __name__ == "__main__":
    print(json.dumps({label: digests(label) for label in sys.argv[1:]}, indent=0, sort_keys=True))
