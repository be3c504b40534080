"""QBO's per-realm throttle: N requests in any sliding 60-second window (default 500).

The window runs on the sandbox clock so that a test can advance time past a throttle instead of
sleeping. Only admitted requests count, matching a token-bucket-like service limit.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

WINDOW = timedelta(seconds=60)


class SlidingWindowLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: datetime) -> bool:
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            return True

    def set_limit(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("rate limit must be at least 1 request per minute")
        with self._lock:
            self.per_minute = per_minute

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
