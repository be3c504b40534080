"""The HTTP side: check size, signature and shape, queue what the body names, answer at once.

Every answer has an empty body (Xero requires it). A body larger than the limit is refused
from its Content-Length before a byte of it is read, and the connection is closed so the
rest is never drained into memory. A body without Content-Length (chunked) gets 411.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..logs import get_logger
from .endpoints import OrgEndpoint, route
from .payloads import PARSERS, SIGNATURE_HEADERS, PayloadError, Targets
from .signatures import verify

log = get_logger(__name__)

#: Called with (org name, targets) for every org a valid notification names.
Enqueue = Callable[[str, Targets], None]


class WebhookHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        endpoints: dict[str, OrgEndpoint],
        enqueue: Enqueue,
        max_body: int,
    ) -> None:
        super().__init__(address, WebhookHandler)
        self.endpoints, self.enqueue, self.max_body = endpoints, enqueue, max_body


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stalls mid-body cannot hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines go through structlog in ``_answer`` instead (no headers, no body)."""

    def _answer(self, status: int, why: str, **fields: Any) -> None:
        level = log.info if status < 400 else log.warning
        level("webhook answered", status=status, path=self.path, why=why, **fields)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def do_GET(self) -> None:
        self.close_connection = True
        self._answer(405, "only POST is accepted")

    def do_POST(self) -> None:
        target = route(self.path, self.server.endpoints)
        if target is None:
            self.close_connection = True
            self._answer(404, "no webhook endpoint here")
            return
        provider, candidates = target
        body = self._read_body()
        if body is None:
            return
        header = self.headers.get(SIGNATURE_HEADERS[provider])
        signed = [e for e in candidates if verify(body, header, e.secret)]
        if not signed:
            self._answer(401, "missing signature" if not header else "bad signature")
            return
        try:
            parsed = PARSERS[provider](json.loads(body.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, PayloadError) as exc:
            self._answer(400, f"signed body is not a {provider} notification: {exc}")
            return
        queued = []
        for endpoint in signed:
            targets = parsed.get(endpoint.account)
            if targets:
                self.server.enqueue(endpoint.org, targets)
                queued.append(endpoint.org)
        unknown = sorted(set(parsed) - {e.account for e in signed})
        self._answer(200, "accepted", queued=queued, unknown_accounts=unknown)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._answer(411, "chunked bodies are not accepted; send Content-Length")
            return None
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.strip().isdigit():
            self.close_connection = True
            self._answer(411, "Content-Length required")
            return None
        length = int(raw)
        if length > self.server.max_body:
            self.close_connection = True
            self._answer(413, "body too large", length=length, limit=self.server.max_body)
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            self._answer(400, "body shorter than its Content-Length")
            return None
        return body
