"""``Idempotency-Key`` handling for PUT/POST.

Xero documents the header (at most 128 characters) but not its replay rules, so
the sandbox follows Stripe's published ones, deliberately: a repeated key with
the same request replays the stored status and body and changes nothing; the
same key with a different request (method, path, query or body) is refused
with a 400.  Responses that never reached the handler (401/403/429, injected
faults) are not stored, so a retry after them executes normally.  Keys are kept
for the sandbox's lifetime unless the ``idempotency_ttl`` mode says otherwise
(then a key older than the TTL, by the sandbox clock, is forgotten).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    status: int
    body: bytes
    content_type: str | None
    at: datetime | None = None


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper(), path.lower(), query):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Stored] = {}
        # One lock per (tenant, key) so concurrent duplicates wait for the first.
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}

    def key_lock(self, tenant_id: str, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault((tenant_id, key), threading.Lock())

    def get(
        self,
        tenant_id: str,
        key: str,
        now: datetime | None = None,
        ttl: float | None = None,
    ) -> Stored | None:
        with self._lock:
            stored = self._entries.get((tenant_id, key))
            if stored is None or ttl is None or now is None or stored.at is None:
                return stored
            if now - stored.at >= timedelta(seconds=ttl):
                del self._entries[(tenant_id, key)]  # the replay window has passed
                return None
            return stored

    def put(self, tenant_id: str, key: str, stored: Stored) -> None:
        with self._lock:
            self._entries[(tenant_id, key)] = stored
