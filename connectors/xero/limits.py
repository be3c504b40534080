"""Staying inside Xero's per-tenant rate limits instead of bumping into them.

Xero allows each app 60 calls a minute, 5,000 a day and 5 at once per tenant, and reports
what is left on every response (``X-MinLimit-Remaining``, ``X-DayLimit-Remaining``). A 429
costs a round trip and, on the day limit, means hours of silence, so syncd paces itself: a
sliding window at the configured limits, a pause when Xero says the minute is almost used up
(another process may share the tenant's allowance), and a refusal *before* sending once the
day is spent, so that the org stops with a clear message instead of sleeping for hours.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from connectors.base import TransientError
from connectors.kit import log_rate_limit_wait

MAX_CONCURRENT = 5
MINUTE = 60.0
DAY = 86_400.0
#: Stop while Xero still reports this many calls left in the minute.
MINUTE_RESERVE = 2
#: Xero does not say when a rolling day frees up; look again after this long.
DAY_RECHECK = 3_600.0


class DayLimitReached(TransientError):
    """The tenant's daily allowance is used up: stop this org until ``retry_after`` passes."""


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    for key, value in headers.items():
        if key.lower() == name:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None


class RateGovernor:
    def __init__(
        self,
        minute_limit: int,
        day_limit: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.minute_limit, self.day_limit = minute_limit, day_limit
        self.monotonic, self.sleep = monotonic, sleep
        self._minute: deque[float] = deque()
        self._day: deque[float] = deque()
        self._pause_until = 0.0
        self._day_blocked_until = 0.0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.calls = 0
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None

    def acquire(self) -> None:
        """Wait for a slot in the minute; raise :class:`DayLimitReached` rather than wait hours."""
        with self._lock:
            while True:
                now = self.monotonic()
                self._trim(now)
                if self._day_blocked_until > now:
                    raise DayLimitReached(
                        "Xero's daily call limit for this organisation is used up "
                        f"({self.day_remaining} left); syncing resumes later",
                        retry_after=self._day_blocked_until - now,
                    )
                if len(self._day) >= self.day_limit:
                    raise DayLimitReached(
                        f"syncd made {self.day_limit} calls to this organisation in 24 hours "
                        "(the configured day_limit); syncing resumes later",
                        retry_after=DAY - (now - self._day[0]),
                    )
                wait, reason = 0.0, ""
                if self._pause_until > now:
                    wait, reason = self._pause_until - now, "Xero's minute allowance nearly spent"
                elif len(self._minute) >= self.minute_limit:
                    wait = MINUTE - (now - self._minute[0])
                    reason = f"{self.minute_limit} calls a minute reached"
                if wait <= 0:
                    self._minute.append(now)
                    self._day.append(now)
                    self.calls += 1
                    return
                log_rate_limit_wait("Xero", reason, wait)
                self.sleep(wait)

    def _trim(self, now: float) -> None:
        while self._minute and now - self._minute[0] >= MINUTE:
            self._minute.popleft()
        while self._day and now - self._day[0] >= DAY:
            self._day.popleft()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """At most five calls in flight per tenant (syncd is sequential per org anyway)."""
        with self._slots:
            yield

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read what Xero says is left and slow down before it starts refusing."""
        minute_left = _header_int(headers, "x-minlimit-remaining")
        day_left = _header_int(headers, "x-daylimit-remaining")
        with self._lock:
            now = self.monotonic()
            self._trim(now)
            if minute_left is not None:
                self.minute_remaining = minute_left
                if minute_left <= MINUTE_RESERVE:
                    # Xero's window slides: our oldest call in it leaves first. Without one,
                    # someone else spent the allowance and only a whole window is safe.
                    pause = MINUTE - (now - self._minute[0]) if self._minute else MINUTE
                    self._pause_until = max(self._pause_until, now + pause)
            if day_left is not None:
                self.day_remaining = day_left
                if day_left <= 0:
                    self._day_blocked_until = max(self._day_blocked_until, now + DAY_RECHECK)

    def refused(self, problem: str | None, retry_after: float) -> None:
        """A 429 arrived anyway: keep every caller out for as long as Xero asked."""
        with self._lock:
            now = self.monotonic()
            if problem == "day":
                self._day_blocked_until = max(self._day_blocked_until, now + retry_after)
            else:
                self._pause_until = max(self._pause_until, now + retry_after)
