"""The sandbox's own clock.

QBO stamps every write with server time; a sandbox that used the host clock directly could not
show a test what happens after thirty days (CDC look-back), after an hour (token expiry) or across
a due date. The clock therefore runs with real elapsed time (so successive writes get successive
timestamps, as on the real service) plus an offset that the control API can move forward.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta


class SandboxClock:
    """Monotonic, forward-only clock: ``start + real elapsed time + manual offset``.

    It never moves backwards, because LastUpdatedTime and the CDC window are only meaningful
    if server time is monotonic, as it is on the real service.
    """

    def __init__(self, start: datetime, *, frozen: bool = False) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("sandbox clock needs a timezone-aware start time")
        self._start = start
        self._started_at = time.monotonic()
        self._offset = timedelta(0)
        self._frozen = frozen
        self._frozen_elapsed = timedelta(0)
        self._lock = threading.Lock()

    def _elapsed(self) -> timedelta:
        if self._frozen:
            return self._frozen_elapsed
        return timedelta(seconds=time.monotonic() - self._started_at)

    def now(self) -> datetime:
        with self._lock:
            return self._start + self._elapsed() + self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
            return self._start + self._elapsed() + self._offset

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("clock.set needs a timezone-aware datetime")
        with self._lock:
            current = self._start + self._elapsed() + self._offset
            if when < current:
                raise ValueError(
                    f"the sandbox clock only moves forward (now {current.isoformat()})"
                )
            self._offset += when - current
            return when

    def freeze(self, frozen: bool) -> datetime:
        """Stop (or restart) real-time ticking, so a demo can hold time still."""
        with self._lock:
            if frozen and not self._frozen:
                self._frozen_elapsed = timedelta(seconds=time.monotonic() - self._started_at)
            elif not frozen and self._frozen:
                self._started_at = time.monotonic() - self._frozen_elapsed.total_seconds()
            self._frozen = frozen
            return self._start + self._elapsed() + self._offset
