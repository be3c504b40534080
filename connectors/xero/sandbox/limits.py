"""Xero's per-tenant rate limits: 5 concurrent, 60 per minute, 5,000 per day.

Windows slide on the sandbox clock (which also runs in real time), so advancing
the clock frees them instantly and a client that really sleeps ``Retry-After``
seconds gets through too.  The app-wide minute limit (10,000 across tenants)
refuses too, though one sandbox rarely reaches it.

Xero documents the numbers ("60 calls per minute", "5000 calls per day", "5 calls
in progress at one time") and the headers, nothing more.  Where it is silent the
sandbox takes the reading that is harder on a client, so that a client which
copes here copes with Xero:

* **A refused call counts.**  A 429 uses up minute, day and app-minute budget
  like any other call: the docs count "calls", not successful ones.  A client
  that keeps knocking while refused keeps itself refused.
* **Windows slide** (any 60 s, any 24 h) instead of resetting at the top of each
  minute or at midnight: a sliding window refuses every burst a fixed one
  refuses, and the bursts straddling a boundary as well.
* **A call refused for concurrency counts too**, against minute and day.
* **Retry-After** is the whole seconds (rounded up) until a call would be
  accepted, counting the refused call that was just charged, and the longest
  wait of every limit exceeded, not merely the first one checked; the problem
  named is the one with that wait.  It is exact, not padded: waiting it out is
  enough for a client that sends nothing meanwhile.
* The concurrency slot is released when the handler is done, before the answer
  is written: over a real network a client always learns a call ended after
  Xero did, so any other choice would refuse calls no client could have held.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import SandboxClock

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
#: Seconds to wait when only the concurrency limit refused (a slot frees when any call ends).
CONCURRENT_RETRY_AFTER = 1


@dataclass
class Limits:
    minute: int
    day: int
    concurrent: int
    app_minute: int = 10_000


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]
    problem: str | None = None
    retry_after: int = 0


class _Tenant:
    def __init__(self) -> None:
        self.minute: deque[datetime] = deque()
        self.day: deque[datetime] = deque()
        self.in_flight = 0


class RateLimiter:
    def __init__(self, clock: SandboxClock, limits: Limits) -> None:
        self.clock = clock
        self.limits = limits
        self._lock = threading.Lock()
        self._tenants: dict[str, _Tenant] = {}
        self._app: deque[datetime] = deque()

    def _tenant(self, tenant_id: str) -> _Tenant:
        return self._tenants.setdefault(tenant_id, _Tenant())

    @staticmethod
    def _trim(window: deque[datetime], now: datetime, span: timedelta) -> None:
        while window and window[0] <= now - span:
            window.popleft()

    def _headers(self, t: _Tenant) -> dict[str, str]:
        return {
            "X-DayLimit-Remaining": str(max(0, self.limits.day - len(t.day))),
            "X-MinLimit-Remaining": str(max(0, self.limits.minute - len(t.minute))),
            "X-AppMinLimit-Remaining": str(max(0, self.limits.app_minute - len(self._app))),
        }

    def _windows(self, t: _Tenant) -> list[tuple[str, deque[datetime], int, timedelta]]:
        """Each counted limit: its problem name, window, limit and span (day first: when
        several refuse with the same wait, the longer-lived limit is the one named)."""
        return [
            ("day", t.day, self.limits.day, DAY),
            ("minute", t.minute, self.limits.minute, MINUTE),
            ("appminute", self._app, self.limits.app_minute, MINUTE),
        ]

    def acquire(self, tenant_id: str) -> Decision:
        """Count one call, then take a concurrency slot or refuse with the longest wait."""
        with self._lock:
            now = self.clock.now()
            t = self._tenant(tenant_id)
            windows = self._windows(t)
            for _, window, _, span in windows:
                self._trim(window, now, span)
            exceeded = [
                (name, w, limit, span) for name, w, limit, span in windows if len(w) >= limit
            ]
            for _, window, _, _ in windows:
                window.append(now)  # refused or not, the call is counted
            problem, wait = None, 0
            for name, window, limit, span in exceeded:
                # Accepted again once all but ``limit - 1`` of the counted calls have left.
                left = _ceil(window[len(window) - max(limit, 1)] + span - now)
                if left > wait:
                    problem, wait = name, left
            if problem is None and t.in_flight >= self.limits.concurrent:
                problem, wait = "concurrent", CONCURRENT_RETRY_AFTER
            if problem is not None:
                return Decision(False, self._headers(t), problem, wait)
            t.in_flight += 1
            return Decision(True, self._headers(t))

    def release(self, tenant_id: str) -> None:
        with self._lock:
            t = self._tenant(tenant_id)
            t.in_flight = max(0, t.in_flight - 1)

    def peek_headers(self, tenant_id: str) -> dict[str, str]:
        with self._lock:
            now = self.clock.now()
            t = self._tenant(tenant_id)
            for _, window, _, span in self._windows(t):
                self._trim(window, now, span)
            return self._headers(t)

    def configure(
        self,
        *,
        minute: int | None = None,
        day: int | None = None,
        concurrent: int | None = None,
        app_minute: int | None = None,
    ) -> Limits:
        with self._lock:
            if minute is not None:
                self.limits.minute = minute
            if day is not None:
                self.limits.day = day
            if concurrent is not None:
                self.limits.concurrent = concurrent
            if app_minute is not None:
                self.limits.app_minute = app_minute
            return Limits(
                self.limits.minute, self.limits.day, self.limits.concurrent, self.limits.app_minute
            )

    def reset(self) -> None:
        """Forget counted calls (in-flight slots stay: those requests are real)."""
        with self._lock:
            for t in self._tenants.values():
                t.minute.clear()
                t.day.clear()
            self._app.clear()


def _ceil(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
