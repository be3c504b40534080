"""A plain recording HTTP endpoint, for watching what the sandboxes deliver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """Answers every POST with ``answer(hit)`` (default 200) and keeps what it got."""

    answer: Callable[[Hit], int] = lambda _hit: 200
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Hit]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.hits) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(self.hits)} of {count} deliveries arrived"
                self.changed.wait(left)
            return list(self.hits)


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll a condition (not a sleep-as-assertion): returns its first truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.05)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status = rec.answer(hit)
            # Kept before answering: the sender waits for the answer before its next POST,
            # so hits are kept in the order they were sent. Kept after answering, a handler
            # thread slowed on a loaded machine kept a retry after the next delivery.
            with rec.changed:
                rec.hits.append(hit)
                rec.changed.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
