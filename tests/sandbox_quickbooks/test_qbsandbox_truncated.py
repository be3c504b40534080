"""A client that dies mid-body must not leave a recorded answer behind its request id."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

from connectors.quickbooks.sandbox import QuickBooksSandbox


def test_truncated_request_is_discarded_and_its_request_id_stays_free() -> None:
    with QuickBooksSandbox(seed=2, invoices=12, now=datetime(2026, 11, 2, tzinfo=UTC)) as box:
        token = box.control.mint_access_token()
        invoice = next(i for i in box.control.truth()["invoices"] if i["status"] == "open")
        body = json.dumps(
            {
                "Id": invoice["id"],
                "SyncToken": invoice["sync_token"],
                "sparse": True,
                "PrivateNote": "written once",
            }
        ).encode()
        path = f"/v3/company/{box.realm_id}/invoice?minorversion=75&requestid=dying-client"
        host, port = urlsplit(box.base_url).hostname, urlsplit(box.base_url).port
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, port)) as sock:
            sock.sendall(head + body[: len(body) // 2])  # dies half-way through the body
        before = len(box.control.requests())
        with socket.create_connection((host, port)) as sock:
            sock.sendall(head + body)
            reply = sock.recv(65536).decode()
        assert reply.startswith("HTTP/1.1 200"), reply[:200]
        log = box.control.requests()[before:]
        assert [r["replayed"] for r in log if r.get("request_id") == "dying-client"] == [False]
        assert box.control.writes()["notes"][-1]["after"] == "written once"
