"""The receiver's HTTP side over real sockets: signatures, intent-to-receive, size limit,
malformed bodies, routing by realm / tenant, and secrets kept out of the logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from syncd import logs
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.store import Store, open_store
from syncd.store.models import AuditEntry
from syncd.webhooks import WebhookReceiver
from syncd.webhooks.payloads import Targets

VERIFIER = "qbo-verifier-token-4f1d2a"
XERO_KEY = "xero-webhook-key-9b8c7d6e5f"
REALM = "9341000000042"
TENANT = "3f1c6a7e-1111-4c6f-9d7a-0123456789ab"

CONFIG = f"""
[store]
url = "sqlite:///syncd.db"

[daemon]
webhook_address = "127.0.0.1:0"

[[orgs]]
name = "qb"
connector = "quickbooks"
policy = "standard"
base_url = "http://127.0.0.1:9/v3"
token_url = "http://127.0.0.1:9/token"
[orgs.credentials]
client_id = "c"
client_secret = "s"
refresh_token = "r"
realm_id = "{REALM}"
[orgs.webhooks]
verifier_token = "${{QBO_VERIFIER}}"

[[orgs]]
name = "xr"
connector = "xero"
policy = "standard"
base_url = "http://127.0.0.1:9/api.xro/2.0"
token_url = "http://127.0.0.1:9/token"
[orgs.credentials]
client_id = "c"
client_secret = "s"
refresh_token = "r"
tenant_id = "{TENANT}"
[orgs.webhooks]
webhook_key = "{XERO_KEY}"
"""


def sign(body: bytes, secret: str) -> str:
    """Written here from the providers' docs, independently of syncd.webhooks.signatures."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Rig:
    receiver: WebhookReceiver
    store: Store
    queued: list[tuple[str, Targets]] = field(default_factory=list)
    log: io.StringIO = field(default_factory=io.StringIO)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(self.receiver.url + path, data=body, headers=headers, timeout=10)

    def audit_count(self) -> int:
        with self.store.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path, env={"QBO_VERIFIER": VERIFIER})
    store = open_store(config.store_url)
    stream = io.StringIO()
    logs.configure(fmt="json", stream=stream)
    receiver = WebhookReceiver(store, config, FixedClock())
    rig = Rig(receiver, store, log=stream)
    # Observe what the HTTP side hands to the worker; the worker itself is exercised end to
    # end in test_webhook_end_to_end.py.
    receiver.server.enqueue = lambda org, targets: rig.queued.append((org, targets))
    receiver.start()
    try:
        yield rig
    finally:
        receiver.stop()
        store.close()
        logs.configure(fmt="json")


def qbo_body(realm: str = REALM) -> bytes:
    return json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Payment",
                                "id": "301",
                                "operation": "Create",
                                "lastUpdated": "2026-11-02T09:00:01-0800",
                            },
                            {
                                "name": "Invoice",
                                "id": "12",
                                "operation": "Update",
                                "lastUpdated": "2026-11-02T09:00:01-0800",
                            },
                            {
                                "name": "Customer",
                                "id": "4",
                                "operation": "Update",
                                "lastUpdated": "2026-11-02T09:00:01-0800",
                            },
                        ]
                    },
                }
            ]
        }
    ).encode()


def xero_body(events: list[dict[str, str]]) -> bytes:
    return json.dumps(
        {
            "events": events,
            "firstEventSequence": 1 if events else 0,
            "lastEventSequence": len(events),
            "entropy": "ABCDEFGHIJKLMNOPQRST",
        }
    ).encode()


def test_quickbooks_good_signature_is_accepted_and_queued(rig: Rig) -> None:
    body = qbo_body()
    answer = rig.post("/webhooks/quickbooks", body, {"intuit-signature": sign(body, VERIFIER)})
    assert answer.status_code == 200 and answer.content == b""
    assert len(rig.queued) == 1
    org, targets = rig.queued[0]
    assert org == "qb"
    assert targets.payments == {"301"} and targets.invoices == {"12"}
    assert targets.customers == {"4"} and not targets.resync


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"intuit-signature": ""},
        {"intuit-signature": "not base64 at all"},
        {"intuit-signature": sign(b"another body", VERIFIER)},
        {"intuit-signature": "placeholder"},  # signed with the Xero key, below
    ],
    ids=["missing", "empty", "garbage", "other-body", "wrong-key"],
)
def test_quickbooks_bad_or_missing_signature_is_401_and_changes_nothing(
    rig: Rig, headers: dict[str, str]
) -> None:
    body = qbo_body()
    if headers.get("intuit-signature") == "placeholder":
        headers = {"intuit-signature": sign(body, XERO_KEY)}
    before = rig.audit_count()
    answer = rig.post("/webhooks/quickbooks", body, headers)
    assert answer.status_code == 401 and answer.content == b""
    assert rig.queued == []
    assert rig.audit_count() == before


def test_per_org_path_and_foreign_realm(rig: Rig) -> None:
    body = qbo_body(realm="111")  # a realm this org is not connected to
    answer = rig.post("/webhooks/quickbooks/qb", body, {"intuit-signature": sign(body, VERIFIER)})
    assert answer.status_code == 200
    assert rig.queued == []
    assert "unknown_accounts" in rig.log.getvalue()
    wrong = rig.post("/webhooks/xero/qb", body, {"x-xero-signature": sign(body, XERO_KEY)})
    assert wrong.status_code == 404
    assert rig.post("/webhooks/quickbooks/nobody", body, {}).status_code == 404


def test_xero_intent_to_receive(rig: Rig) -> None:
    """Xero's handshake: empty events, some signed correctly, some not; 200 / 401, empty body."""
    for good in (True, False, False, True):
        body = xero_body([])
        key = XERO_KEY if good else XERO_KEY + "x"
        answer = rig.post("/webhooks/xero", body, {"x-xero-signature": sign(body, key)})
        assert answer.status_code == (200 if good else 401)
        assert answer.content == b""
        assert "Set-Cookie" not in answer.headers
    assert rig.queued == []


def test_xero_invoice_event_is_queued_for_its_tenant(rig: Rig) -> None:
    event = {
        "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/abc",
        "resourceId": "0d5f2a49-5c1e-4a3d-9a43-6a7f3c1c2b10",
        "eventDateUtc": "2026-05-01T09:31:02.123",
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": TENANT.upper(),  # tenant ids compare case-insensitively
        "tenantType": "ORGANISATION",
    }
    body = xero_body([event])
    answer = rig.post("/webhooks/xero/xr", body, {"x-xero-signature": sign(body, XERO_KEY)})
    assert answer.status_code == 200
    assert [(o, t.invoices, t.resync) for o, t in rig.queued] == [
        ("xr", {"0d5f2a49-5c1e-4a3d-9a43-6a7f3c1c2b10"}, False)
    ]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", b'{"eventNotifications": "nope"}', b"[1, 2]", b'{"events": []}'],
    ids=["syntax", "not-utf8", "wrong-shape", "array-of-numbers", "xero-shape"],
)
def test_malformed_body_with_valid_signature_is_400_logged_and_changes_nothing(
    rig: Rig, body: bytes
) -> None:
    before = rig.audit_count()
    answer = rig.post("/webhooks/quickbooks", body, {"intuit-signature": sign(body, VERIFIER)})
    assert answer.status_code == 400 and answer.content == b""
    assert rig.queued == [] and rig.audit_count() == before
    lines = [json.loads(line) for line in rig.log.getvalue().splitlines()]
    assert any(line.get("status") == 400 and "notification" in line["why"] for line in lines)


def test_ten_megabyte_body_is_refused_before_it_is_read(rig: Rig) -> None:
    """The client announces 10 MB and sends only the first 64 KB: the 413 arrives anyway, so
    the server answered from Content-Length without waiting for (or buffering) the body."""
    host, port = rig.receiver.server.server_address[:2]
    size = 10 * 1024 * 1024
    with socket.create_connection((str(host), int(port)), timeout=10) as conn:
        conn.sendall(
            (
                "POST /webhooks/quickbooks HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/json\r\nintuit-signature: x\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
            + b"[" * 65536
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert rig.queued == []


def test_missing_length_and_other_methods(rig: Rig) -> None:
    host, port = rig.receiver.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /webhooks/xero HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n"
        )
        assert conn.recv(4096).startswith(b"HTTP/1.1 411")
    assert requests.get(rig.receiver.url + "/webhooks/xero", timeout=10).status_code == 405


def test_secrets_never_reach_the_log(rig: Rig) -> None:
    body = qbo_body()
    rig.post("/webhooks/quickbooks", body, {"intuit-signature": sign(body, VERIFIER)})
    rig.post("/webhooks/quickbooks", body, {"intuit-signature": "bad"})
    rig.post("/webhooks/xero", b"{", {"x-xero-signature": sign(b"{", XERO_KEY)})
    rig.receiver.stop()
    text = rig.log.getvalue()
    assert "webhook answered" in text
    for secret in (VERIFIER, XERO_KEY, sign(body, VERIFIER)):
        assert secret not in text


def test_quickbooks_cloudevents_payload_is_understood(rig: Rig) -> None:
    """Intuit's newer format: a JSON array of CloudEvents (per-app switch, announced 2025)."""
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "88cd52a5-b8d1-4ad3-a2ab-0d8a3c5e1a0e",
                "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
                "type": "qbo.invoice.updated.v1",
                "time": "2026-11-02T17:00:01Z",
                "intuitentityid": "77",
                "intuitaccountid": REALM,
                "data": {},
            },
            {
                "specversion": "1.0",
                "id": "0a1b2c3d-0000-4000-8000-000000000001",
                "source": "intuit.x",
                "type": "qbo.payment.created.v1",
                "time": "2026-11-02T17:00:01Z",
                "intuitentityid": "301",
                "intuitaccountid": REALM,
                "data": {},
            },
        ]
    ).encode()
    answer = rig.post("/webhooks/quickbooks/qb", body, {"intuit-signature": sign(body, VERIFIER)})
    assert answer.status_code == 200
    ((org, targets),) = rig.queued
    assert org == "qb" and targets.invoices == {"77"} and targets.payments == {"301"}
