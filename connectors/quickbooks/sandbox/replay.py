"""``requestid`` idempotency: the first answer to a request id is the answer forever.

QBO replays the original response for a repeated request id instead of executing the request
again. Only answers produced by the company (successes and business faults) are stored;
infrastructure failures (throttling, injected 5xx, dropped connections) never reached the
service, so a retry with the same id executes normally - which is what makes a client's retry safe.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from .wire import Response

MAX_REQUEST_ID_LENGTH = 50


@dataclass(frozen=True)
class Stored:
    response: Response
    body_digest: str
    method: str
    path: str
    #: When the answer was stored (sandbox clock), for the unkind replay expiry.
    at: datetime | None = None


class ReplayStore:
    def __init__(self) -> None:
        self._stored: dict[tuple[str, str], Stored] = {}
        self._lock = threading.Lock()

    @staticmethod
    def digest(body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()

    def get(
        self,
        realm_id: str,
        request_id: str,
        *,
        now: datetime | None = None,
        ttl_seconds: float | None = None,
    ) -> Stored | None:
        """The stored answer, unless it is older than ``ttl_seconds`` (then it is forgotten)."""
        with self._lock:
            stored = self._stored.get((realm_id, request_id))
            if stored is None or ttl_seconds is None or now is None or stored.at is None:
                return stored
            if (now - stored.at).total_seconds() > ttl_seconds:
                del self._stored[(realm_id, request_id)]
                return None
            return stored

    def put(self, realm_id: str, request_id: str, stored: Stored) -> None:
        with self._lock:
            self._stored.setdefault((realm_id, request_id), stored)
