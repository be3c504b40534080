"""The sandbox clock: a settable start plus real elapsed time.

Tests need two things that pull in opposite directions: moving time forward
instantly (expire a token, empty a rate-limit window) and letting a client that
honestly sleeps for ``Retry-After`` seconds get through.  Anchoring the clock to
``time.monotonic`` and adding an adjustable offset gives both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .dates import truncate_ms


class SandboxClock:
    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("sandbox clock needs a timezone-aware start")
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor = start.astimezone(UTC)
        self._anchor_mono = monotonic()

    def now(self) -> datetime:
        """Current sandbox time at Xero's millisecond precision."""
        with self._lock:
            elapsed = self._monotonic() - self._anchor_mono
            return truncate_ms(self._anchor + timedelta(seconds=elapsed))

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._anchor += timedelta(seconds=seconds)
        return self.now()

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment``; refusing to go back keeps UpdatedDateUTC monotonic."""
        if moment.tzinfo is None:
            raise ValueError("set() needs a timezone-aware datetime")
        current = self.now()
        if moment < current:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._anchor = moment.astimezone(UTC)
            self._anchor_mono = self._monotonic()
        return self.now()
