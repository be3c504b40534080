"""Reads and writes through the real SDK: SyncToken, sparse/full updates, send, requestid."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects.base import Ref
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment

from connectors.quickbooks.sandbox import QuickBooksSandbox


def _open_invoice(sandbox: QuickBooksSandbox, *, with_email: bool | None = None) -> dict:
    for inv in sandbox.control.truth()["invoices"]:
        if inv["status"] != "open":
            continue
        if with_email is None or bool(inv["bill_email"]) == with_email:
            return inv
    raise AssertionError("seed has no matching open invoice")


def test_read_and_not_found(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _open_invoice(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    assert inv.Id == target["id"] and inv.DocNumber == target["doc_number"]
    assert (
        isinstance(inv.Line[-1].DetailType, str) and inv.Line[-1].DetailType == "SubTotalLineDetail"
    )
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("999999", qb=qb)
    deleted = next(i for i in sandbox.control.truth()["invoices"] if i["status"] == "deleted")
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(deleted["id"], qb=qb)


def test_sparse_update_of_private_note_bumps_sync_token(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    target = _open_invoice(sandbox)
    before = qb.get_single_object("Invoice", target["id"])["Invoice"]
    sandbox.control.advance_clock(seconds=61)
    body = {
        "Id": before["Id"],
        "SyncToken": before["SyncToken"],
        "sparse": True,
        "PrivateNote": "Reminder 1 sent",
    }
    result = qb.update_object("Invoice", json.dumps(body))["Invoice"]
    assert result["SyncToken"] == str(int(before["SyncToken"]) + 1)
    assert result["PrivateNote"] == "Reminder 1 sent"
    assert datetime.fromisoformat(result["MetaData"]["LastUpdatedTime"]) > datetime.fromisoformat(
        before["MetaData"]["LastUpdatedTime"]
    )
    # sparse: everything else is untouched
    unchanged = {
        k: v for k, v in result.items() if k not in ("SyncToken", "MetaData", "PrivateNote")
    }
    assert unchanged == {
        k: v for k, v in before.items() if k not in ("SyncToken", "MetaData", "PrivateNote")
    }
    notes = sandbox.control.writes()["notes"]
    assert notes[-1]["id"] == before["Id"] and notes[-1]["after"] == "Reminder 1 sent"


def test_stale_sync_token_is_5010(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _open_invoice(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    sandbox.control.edit_invoice(inv.Id, fields={"PrivateNote": "edited by a bookkeeper"})
    inv.PrivateNote = "our note"
    with pytest.raises(QuickbooksException) as info:
        inv.save(qb=qb)
    assert type(info.value) is QuickbooksException  # 5010 is outside every SDK subclass range
    assert info.value.error_code == 5010
    assert info.value.message == "Stale Object Error"
    assert Invoice.get(inv.Id, qb=qb).PrivateNote == "edited by a bookkeeper"


def test_full_update_replaces_lines_and_nulls_omitted_fields(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    target = _open_invoice(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    old_ids = [line.Id for line in inv.Line if line.DetailType == "SalesItemLineDetail"]
    old_total = Decimal(str(inv.TotalAmt))
    fee = SalesItemLine()
    fee.Amount = Decimal("25.00")
    fee.Description = "Late fee"
    fee.SalesItemLineDetail = SalesItemLineDetail()
    fee.SalesItemLineDetail.ItemRef = Ref()
    fee.SalesItemLineDetail.ItemRef.value = "10"
    inv.Line = [line for line in inv.Line if line.DetailType != "SubTotalLineDetail"] + [fee]
    inv.CustomerMemo = None  # omitted from the full update -> nulled by QBO
    saved = inv.save(qb=qb)
    sales = [line for line in saved.Line if line.DetailType == "SalesItemLineDetail"]
    assert [line.Id for line in sales[:-1]] == old_ids
    assert sales[-1].Id == str(max(int(i) for i in old_ids) + 1)
    assert Decimal(str(saved.TotalAmt)) == old_total + Decimal("25")
    assert saved.Line[-1].DetailType == "SubTotalLineDetail"
    assert Decimal(str(saved.Line[-1].Amount)) == old_total + Decimal("25")
    assert Decimal(str(saved.Balance)) == Decimal(target["balance"]) + Decimal("25")
    assert getattr(saved, "CustomerMemo", None) is None
    added = sandbox.control.writes()["lines_added"]
    assert added[-1]["invoice_id"] == inv.Id and added[-1]["amount"] == "25.00"

    # A total below what has already been paid is refused and changes nothing.
    sandbox.control.add_payment([{"invoice_id": inv.Id, "amount": "25.01"}])
    fresh = Invoice.get(inv.Id, qb=qb)
    fresh.Line = [fee]
    with pytest.raises(QuickbooksException):
        fresh.save(qb=qb)
    assert Invoice.get(inv.Id, qb=qb).SyncToken == fresh.SyncToken


def test_line_replacement_drops_unsent_lines(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    created = sandbox.control.create_invoice(
        "1",
        [
            {"amount": "100.00", "description": "A"},
            {"amount": "50.00", "description": "B"},
        ],
    )
    inv = Invoice.get(created["Id"], qb=qb)
    keep = [line for line in inv.Line if getattr(line, "Description", None) == "B"]
    inv.Line = keep
    saved = inv.save(qb=qb)
    assert [line.Description for line in saved.Line if line.DetailType != "SubTotalLineDetail"] == [
        "B"
    ]
    assert saved.TotalAmt == 50 and saved.Balance == 50


def test_create_invoice_like_recorded_sample(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    body = {
        "CustomerRef": {"value": "1"},
        "TxnDate": "2024-01-15",
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 100,
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 100},
            }
        ],
    }
    result = qb.create_object("Invoice", json.dumps(body))["Invoice"]
    assert result["SyncToken"] == "0"
    assert result["DueDate"] == "2024-02-14"
    assert result["Balance"] == result["TotalAmt"] == 100
    assert result["EmailStatus"] == "NotSet" and "BillEmail" not in result
    assert result["Line"][-1] == {
        "Amount": 100,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert int(result["DocNumber"]) > 1000
    assert sandbox.control.writes()["invoices_created"][-1]["invoice_id"] == result["Id"]
    with pytest.raises(ValidationException):
        qb.create_object("Invoice", json.dumps({**body, "CustomerRef": {"value": "99999"}}))


def test_send_with_and_without_send_to(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    with_email = _open_invoice(sandbox, with_email=True)
    inv = Invoice.get(with_email["id"], qb=qb)
    sent = inv.send(qb=qb)["Invoice"]
    assert sent["EmailStatus"] == "EmailSent"
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email"
    assert sent["SyncToken"] == str(int(inv.SyncToken) + 1)
    assert sent["BillEmail"]["Address"] == with_email["bill_email"]

    override = inv.send(qb=qb, send_to="ap+billing@customer.example.com")["Invoice"]
    assert override["BillEmail"]["Address"] == "ap+billing@customer.example.com"
    emails = sandbox.control.writes()["emails"]
    assert [e["to"] for e in emails[-2:]] == [
        with_email["bill_email"],
        "ap+billing@customer.example.com",
    ]

    created = sandbox.control.create_invoice("1", [{"amount": "10.00"}])
    bare = Invoice.get(created["Id"], qb=qb)
    assert getattr(bare, "BillEmail", None) is None
    with pytest.raises(ValidationException):
        bare.send(qb=qb)
    assert len(sandbox.control.writes()["emails"]) == 2


def test_requestid_replay_returns_first_response_and_changes_nothing(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    target = _open_invoice(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    body = {"Id": inv.Id, "SyncToken": inv.SyncToken, "sparse": True, "PrivateNote": "first"}
    first = qb.update_object("Invoice", json.dumps(body), request_id="dunning-1-step-1")
    again = qb.update_object("Invoice", json.dumps(body), request_id="dunning-1-step-1")
    assert again == first
    other = dict(body, PrivateNote="second")
    replay = qb.update_object("Invoice", json.dumps(other), request_id="dunning-1-step-1")
    assert replay == first
    current = Invoice.get(inv.Id, qb=qb)
    assert current.PrivateNote == "first"
    assert current.SyncToken == str(int(inv.SyncToken) + 1)
    log = [r for r in sandbox.control.requests() if r["request_id"] == "dunning-1-step-1"]
    assert [(r["replayed"], r["replay_body_differs"]) for r in log] == [
        (False, None),
        (True, False),
        (True, True),
    ]
    with pytest.raises(ValidationException):
        qb.update_object("Invoice", json.dumps(body), request_id="x" * 51)


def test_void_and_delete(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    created = sandbox.control.create_invoice("2", [{"amount": "80.00"}], private_note="keep me")
    inv = Invoice.get(created["Id"], qb=qb)
    voided = inv.void(qb=qb)["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert voided["PrivateNote"] == "Voided - keep me"
    assert Invoice.get(inv.Id, qb=qb).SyncToken == str(int(inv.SyncToken) + 1)

    other = Invoice.get(sandbox.control.create_invoice("2", [{"amount": "5.00"}])["Id"], qb=qb)
    answer = other.delete(qb=qb)
    assert answer["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": other.Id}
    status = {i["id"]: i["status"] for i in sandbox.control.truth()["invoices"]}
    assert status[inv.Id] == "voided" and status[other.Id] == "deleted"


def test_payment_applies_and_bumps_invoice(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _open_invoice(sandbox)
    before = Invoice.get(target["id"], qb=qb)
    half = (Decimal(target["balance"]) / 2).quantize(Decimal("0.01"))
    payment = sandbox.control.add_payment([{"invoice_id": target["id"], "amount": str(half)}])
    after = Invoice.get(target["id"], qb=qb)
    assert Decimal(str(after.Balance)) == Decimal(target["balance"]) - half
    assert after.SyncToken == str(int(before.SyncToken) + 1)
    assert {"TxnId": payment["Id"], "TxnType": "Payment"} in [
        {"TxnId": link.TxnId, "TxnType": link.TxnType} for link in after.LinkedTxn
    ]
    read = Payment.get(payment["Id"], qb=qb)
    assert read.Line[0].LinkedTxn[0].TxnId == target["id"]
    assert Decimal(str(read.UnappliedAmt)) == 0
    truth = {p["id"]: p for p in sandbox.control.truth()["payments"]}
    assert truth[payment["Id"]]["allocations"] == [
        {"txn_id": target["id"], "txn_type": "Invoice", "amount": str(half)}
    ]
