"""The read path's plumbing: whole bodies through the session, clean pages in one pass.

The session reads a body in large chunks itself (``requests`` would read it 10 KB at a time);
what callers see must not change: the same bytes with either framing, a streamed request
still streamed, a failing server still a ``TransientError``. A clean query answer decodes its
rows with the envelope; anything else takes the general path, with the same rows or errors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import msgspec
import pytest
from quickbooks.exceptions import QuickbooksException

from connectors.base import OAuthTokens
from connectors.quickbooks import wire
from connectors.quickbooks.auth import BODY_CHUNK, ApiSession, RateLimiter

#: More than two of the session's reads, with every byte value's position checkable.
BODY = bytes(range(256)) * (BODY_CHUNK * 5 // 2 // 256 + 7)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status = 503 if self.path == "/down" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BODY), 300_000):
                piece = BODY[start : start + 300_000]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _session() -> ApiSession:
    tokens = cast(OAuthTokens, object())  # request() never reads the tokens
    return ApiSession(tokens, RateLimiter(1000), timeout=30, ca_bundle=None)


@pytest.mark.parametrize("path", ["/sized", "/chunked"])
def test_the_whole_body_arrives_as_sent(server: str, path: str) -> None:
    session = _session()
    for _ in range(2):  # the second request reuses the pooled connection
        response = session.get(server + path)
        assert response.status_code == 200
        assert response.content == BODY
    assert session.calls == 2


def test_a_streamed_request_is_left_to_its_caller(server: str) -> None:
    response = _session().get(server + "/sized", stream=True)
    assert response.raw.read(10) == BODY[:10]
    assert b"".join(response.iter_content(65536)) == BODY[10:]


def test_a_server_error_is_still_transient(server: str) -> None:
    from connectors.base import TransientError

    with pytest.raises(TransientError, match="HTTP 503"):
        _session().get(server + "/down")


def _answer(rows: list[Any], **extra: Any) -> bytes:
    return msgspec.json.encode({"QueryResponse": {"Invoice": rows}, "time": "t", **extra})


_ROW = {"Id": "7", "MetaData": {"LastUpdatedTime": "2026-01-02T03:04:05-08:00"}, "Balance": 5}


def test_a_clean_page_is_read_with_its_envelope_and_texts() -> None:
    body = _answer([_ROW, {**_ROW, "Id": 8, "Extra": [1, {"x": None}]}])
    rows = wire._shaped_rows("Invoice", body)
    assert rows is not None
    assert [r.id for r in rows] == ["7", "8"]
    assert [r.text for r in rows] == [
        msgspec.json.encode(_ROW).decode(),
        msgspec.json.encode({**_ROW, "Id": 8, "Extra": [1, {"x": None}]}).decode(),
    ]
    assert rows[0].shape is not None and str(rows[0].shape.MetaData.LastUpdatedTime)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body",
    [
        _answer([_ROW, {**_ROW, "Id": 9, "Balance": "lots", "MetaData": []}]),  # one misfit
        _answer([], Fault={"Error": [{"code": "5010"}]}),  # a fault in a 200 answer
        b'{"QueryResponse": {"Invoice": {"not": "a list"}}}',
        b"not json",
    ],
)
def test_anything_else_takes_the_general_path(body: bytes) -> None:
    assert wire._shaped_rows("Invoice", body) is None


def test_a_misfit_costs_one_record_on_the_general_path() -> None:
    body = _answer([_ROW, {**_ROW, "Id": 9, "Balance": "lots"}])
    found = wire._envelope(body, 200).QueryResponse or {}
    rows = wire._received("Invoice", found["Invoice"])
    assert [(r.id, r.shape is None) for r in rows] == [("7", False), ("9", True)]


def test_an_empty_answer_has_no_rows_and_a_fault_raises() -> None:
    assert wire._shaped_rows("Invoice", b'{"QueryResponse": {}, "time": "t"}') == []
    fault = msgspec.json.encode({"Fault": {"Error": [{"Message": "x", "code": "500"}]}})
    with pytest.raises(QuickbooksException):
        wire._envelope(fault, 200)
