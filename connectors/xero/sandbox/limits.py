"""Xero's per-tenant rate limits: 5 concurrent, 60 per minute, 5,000 per day.

Windows slide on the sandbox clock (which also runs in real time), so advancing
the clock frees them instantly and a client that really sleeps ``Retry-After``
seconds gets through too.  A refused call does not consume the minute or day
budget.  The app-wide minute limit (10,000 across tenants) is tracked only to
fill ``X-AppMinLimit-Remaining``.
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

    def acquire(self, tenant_id: str) -> Decision:
        """Count one call and take a concurrency slot, or refuse with the reason."""
        with self._lock:
            now = self.clock.now()
            t = self._tenant(tenant_id)
            self._trim(t.minute, now, MINUTE)
            self._trim(t.day, now, DAY)
            self._trim(self._app, now, MINUTE)
            if len(t.day) >= self.limits.day:
                wait = t.day[0] + DAY - now
                return Decision(False, self._headers(t), "day", _ceil(wait))
            if len(t.minute) >= self.limits.minute:
                wait = t.minute[0] + MINUTE - now
                return Decision(False, self._headers(t), "minute", _ceil(wait))
            if len(self._app) >= self.limits.app_minute:
                wait = self._app[0] + MINUTE - now
                return Decision(False, self._headers(t), "appminute", _ceil(wait))
            if t.in_flight >= self.limits.concurrent:
                return Decision(False, self._headers(t), "concurrent", 1)
            t.minute.append(now)
            t.day.append(now)
            self._app.append(now)
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
            self._trim(t.minute, now, MINUTE)
            self._trim(t.day, now, DAY)
            self._trim(self._app, now, MINUTE)
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
