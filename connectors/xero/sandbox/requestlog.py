"""What clients asked for and what they got, for assertions in tests.

Response bodies are kept only while recording is switched on (the OpenAPI
conformance test turns it on); otherwise a long paging run would hold every
page in memory.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Entry:
    seq: int
    at: str
    method: str
    path: str
    query: dict[str, list[str]]
    tenant_id: str | None
    idempotency_key: str | None
    status: int = 0
    replayed: bool = False
    fault: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self, *, bodies: bool) -> dict[str, Any]:
        out = asdict(self)
        if not bodies:
            out.pop("response_body")
            out.pop("request_body")
        return out


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._seq = 0
        self.record_bodies = False

    def open(
        self,
        *,
        at: str,
        method: str,
        path: str,
        query: dict[str, list[str]],
        tenant_id: str | None,
        idempotency_key: str | None,
    ) -> Entry:
        with self._lock:
            self._seq += 1
            entry = Entry(self._seq, at, method, path, query, tenant_id, idempotency_key)
            self._entries.append(entry)
            return entry

    def entries(self, *, bodies: bool = False, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [e.as_json(bodies=bodies) for e in self._entries if e.seq > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
