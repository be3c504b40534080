"""The sandboxes deliver signed notifications for control-API changes, as their providers do:
payload shape, signature, in-order retries; Xero's intent-to-receive gate."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
import requests

from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.xero.sandbox import XeroSandbox
from tests.webhooks.conftest import Hit, Recorder, wait_until

TOKEN = "verifier-3c2b1a"
KEY = "xero-key-77aa66bb55"


def mac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def qbo() -> Iterator[QuickBooksSandbox]:
    with QuickBooksSandbox(seed=5, invoices=12) as sandbox:
        yield sandbox


@pytest.fixture
def xero() -> Iterator[XeroSandbox]:
    with XeroSandbox(seed=5, invoices=12) as sandbox:
        yield sandbox


def open_qbo_invoice(sandbox: QuickBooksSandbox) -> str:
    return next(str(i["id"]) for i in sandbox.control.truth()["invoices"] if i["status"] == "open")


def register_qbo(sandbox: QuickBooksSandbox, url: str, **extra: object) -> dict[str, object]:
    answer = requests.post(
        sandbox.base_url + "/_sandbox/webhooks",
        json={"url": url, "verifier_token": TOKEN, **extra},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_qbo_payment_sends_one_signed_notification(
    qbo: QuickBooksSandbox, recorder: Recorder
) -> None:
    register_qbo(qbo, recorder.url)
    invoice = open_qbo_invoice(qbo)
    payment = qbo.control.add_payment([{"invoice_id": invoice}])
    (hit,) = recorder.wait_for(1)
    assert hit.headers["intuit-signature"] == mac(hit.body, TOKEN)
    (note,) = json.loads(hit.body)["eventNotifications"]
    assert note["realmId"] == qbo.realm_id
    entities = {(e["name"], e["id"]): e for e in note["dataChangeEvent"]["entities"]}
    assert entities[("Payment", str(payment["Id"]))]["operation"] == "Create"
    assert entities[("Invoice", invoice)]["operation"] == "Update"
    stamp = entities[("Invoice", invoice)]["lastUpdated"]
    assert len(stamp) == len("2015-10-05T14:42:19-0700") and stamp[-5] in "+-"
    # Reads cause no notification; a void does, as "Void".
    qbo.control.truth()
    qbo.control.void_invoice(open_qbo_invoice(qbo))
    hits = recorder.wait_for(2)
    ops = [
        e["operation"]
        for e in json.loads(hits[1].body)["eventNotifications"][0]["dataChangeEvent"]["entities"]
        if e["name"] == "Invoice"
    ]
    assert ops == ["Void"]


def test_qbo_retries_in_order_until_acknowledged(
    qbo: QuickBooksSandbox, recorder: Recorder
) -> None:
    answers = iter([500, 503, 200, 200])
    recorder.answer = lambda _hit: next(answers)
    # A generous answer time: on a loaded machine a slow answer would be a timeout and an
    # extra retry, which is not what this test is about.
    register_qbo(qbo, recorder.url, retry_scale=0.001, response_timeout=60)
    first = open_qbo_invoice(qbo)
    qbo.control.add_payment([{"invoice_id": first}])
    second = open_qbo_invoice(qbo)
    qbo.control.add_payment([{"invoice_id": second}])
    hits = recorder.wait_for(4)
    # The first notification is retried until acknowledged; only then does the second go.
    assert hits[0].body == hits[1].body == hits[2].body != hits[3].body
    status = requests.get(qbo.base_url + "/_sandbox/webhooks", timeout=30).json()
    deliveries = status["deliveries"]
    assert [a["status"] for a in deliveries[0]["attempts"]] == [500, 503, 200]
    assert wait_until(
        lambda: requests.get(qbo.base_url + "/_sandbox/webhooks", timeout=30).json()["deliveries"][
            1
        ]["delivered"],
        what="second delivery recorded",
    )


def xero_register(sandbox: XeroSandbox, url: str) -> dict[str, object]:
    answer = requests.post(
        sandbox.control_url + "/webhooks",
        json={"url": url, "webhook_key": KEY, "retry_scale": 0.001},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def honest(hit: Hit) -> int:
    return 200 if hit.headers.get("x-xero-signature") == mac(hit.body, KEY) else 401


def test_xero_intent_to_receive_then_signed_invoice_events(
    xero: XeroSandbox, recorder: Recorder
) -> None:
    recorder.answer = honest
    status = xero_register(xero, recorder.url)
    assert status["status"] == "OK"
    checks = status["intent_to_receive"]
    assert isinstance(checks, list) and len(checks) == 4
    assert {c["signed_correctly"] for c in checks} == {True, False}
    for hit in recorder.hits:
        assert json.loads(hit.body)["events"] == []
    invoice = next(i for i in xero.org.truth()["invoices"] if i["status"] == "AUTHORISED")[
        "invoice_id"
    ]
    requests.post(
        xero.control_url + "/payments", json={"invoice_id": invoice}, timeout=30
    ).raise_for_status()
    hits = recorder.wait_for(5)
    event_hit = hits[4]
    assert event_hit.headers["x-xero-signature"] == mac(event_hit.body, KEY)
    body = json.loads(event_hit.body)
    (event,) = body["events"]
    assert event["resourceId"] == invoice and event["eventCategory"] == "INVOICE"
    assert event["eventType"] == "UPDATE" and event["tenantId"] == xero.tenant_id
    assert body["firstEventSequence"] <= body["lastEventSequence"]
    assert len(body["entropy"]) == 20


@pytest.mark.parametrize("answer", [200, 401], ids=["always-200", "always-401"])
def test_xero_endpoint_that_fails_the_handshake_gets_nothing(
    xero: XeroSandbox, recorder: Recorder, answer: int
) -> None:
    recorder.answer = lambda _hit: answer
    status = xero_register(xero, recorder.url)
    assert status["status"] == "FAILED"
    invoice = next(i for i in xero.org.truth()["invoices"] if i["status"] == "AUTHORISED")[
        "invoice_id"
    ]
    requests.post(
        xero.control_url + "/payments", json={"invoice_id": invoice}, timeout=30
    ).raise_for_status()
    after = requests.get(xero.control_url + "/webhooks", timeout=30).json()
    assert after["deliveries"] == [] and len(recorder.hits) == 4
