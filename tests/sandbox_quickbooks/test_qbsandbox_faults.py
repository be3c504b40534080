"""Injected faults as the SDK experiences them."""

from __future__ import annotations

import json

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException, SevereException, ValidationException
from quickbooks.objects.invoice import Invoice

from connectors.quickbooks.sandbox import ControlAPIError, QuickBooksSandbox


def _first_open(sandbox: QuickBooksSandbox) -> dict:
    return next(i for i in sandbox.control.truth()["invoices"] if i["status"] == "open")


def test_http_500_then_recovers(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.inject_fault("http_500", count=2, path="/query")
    for _ in range(2):
        with pytest.raises(SevereException) as info:
            Invoice.count(qb=qb)
        assert info.value.error_code == 10000
    assert Invoice.count(qb=qb) > 0
    assert [r["fault"] for r in sandbox.control.requests()[-3:]] == ["http_500", "http_500", None]


def test_http_503_is_not_json(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.inject_fault("http_503", method="GET")
    with pytest.raises(QuickbooksException) as info:
        Invoice.get("1", qb=qb)
    assert info.value.error_code == 10000 and "Error reading json" in info.value.message
    assert Invoice.get("1", qb=qb).Id == "1"


def test_xml_throttle_body(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.inject_fault("http_429", format="xml")
    with pytest.raises(QuickbooksException) as info:
        Invoice.count(qb=qb)
    assert info.value.error_code == 10000
    assert "ThrottleExceeded" in info.value.message


def test_injected_stale_token_changes_nothing(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _first_open(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    sandbox.control.inject_fault("stale_synctoken", path="/invoice")
    inv.PrivateNote = "x"
    with pytest.raises(QuickbooksException) as info:
        inv.save(qb=qb)
    assert info.value.error_code == 5010
    assert Invoice.get(inv.Id, qb=qb).SyncToken == inv.SyncToken
    assert inv.save(qb=qb).PrivateNote == "x"


def test_malformed_json_body(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    sandbox.control.inject_fault("malformed_json", path="/invoice/")
    with pytest.raises(QuickbooksException) as info:
        Invoice.get("1", qb=qb)
    assert info.value.error_code == 10000


def test_timeout_with_commit_then_requestid_retry_is_safe(
    qb: QuickBooks, sandbox: QuickBooksSandbox
) -> None:
    target = _first_open(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    body = json.dumps(
        {"Id": inv.Id, "SyncToken": inv.SyncToken, "sparse": True, "PrivateNote": "n1"}
    )
    sandbox.control.inject_fault("timeout", seconds=0.2, commit=True, method="POST")
    with pytest.raises(requests.exceptions.ConnectionError):
        qb.update_object("Invoice", body, request_id="step-42")
    # The write happened although the client never saw an answer; a retry with the same
    # requestid gets the original answer instead of a stale-token error.
    retried = qb.update_object("Invoice", body, request_id="step-42")["Invoice"]
    assert retried["PrivateNote"] == "n1"
    assert retried["SyncToken"] == str(int(inv.SyncToken) + 1)
    assert Invoice.get(inv.Id, qb=qb).SyncToken == retried["SyncToken"]
    with pytest.raises(QuickbooksException) as info:
        qb.update_object("Invoice", body, request_id="step-43")
    assert info.value.error_code == 5010


def test_timeout_without_commit_changes_nothing(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _first_open(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    sandbox.control.inject_fault("timeout", seconds=0.1, method="POST")
    inv.PrivateNote = "lost"
    with pytest.raises(requests.exceptions.ConnectionError):
        inv.save(qb=qb)
    assert Invoice.get(inv.Id, qb=qb).SyncToken == inv.SyncToken


def test_bad_fault_spec_is_rejected(sandbox: QuickBooksSandbox) -> None:
    with pytest.raises(ControlAPIError) as info:
        sandbox.control.inject_fault("explode")
    assert info.value.status == 400
    assert sandbox.control.clear_faults() == {"faults": []}


def test_batch_items_are_independent(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    target = _first_open(sandbox)
    inv = Invoice.get(target["id"], qb=qb)
    body = {
        "BatchItemRequest": [
            {"bId": "a", "Query": "SELECT COUNT(*) FROM Invoice"},
            {
                "bId": "b",
                "operation": "update",
                "Invoice": {
                    "Id": inv.Id,
                    "SyncToken": inv.SyncToken,
                    "sparse": True,
                    "PrivateNote": "b",
                },
            },
            {
                "bId": "c",
                "operation": "update",
                "Invoice": {"Id": inv.Id, "SyncToken": "0", "sparse": True, "PrivateNote": "c"},
            },
        ]
    }
    result = qb.batch_operation(json.dumps(body))["BatchItemResponse"]
    assert [item["bId"] for item in result] == ["a", "b", "c"]
    assert result[0]["QueryResponse"]["totalCount"] > 0
    assert result[1]["Invoice"]["PrivateNote"] == "b"
    assert result[2]["Fault"]["Error"][0]["code"] == "5010"
    too_many = {
        "BatchItemRequest": [{"bId": str(i), "Query": "SELECT * FROM Invoice"} for i in range(31)]
    }
    with pytest.raises(ValidationException):
        qb.batch_operation(json.dumps(too_many))
