"""Staying inside Xero's per-tenant rate limits instead of bumping into them.

Xero allows each app 60 calls a minute, 5,000 a day and 5 at once per tenant, and reports
what is left on every response (``X-MinLimit-Remaining``, ``X-DayLimit-Remaining``). A 429
costs a round trip and, on the day limit, means hours of silence, so syncd paces itself: a
sliding window at the configured limits, a pause when Xero says the minute is almost used up
(another process may share the tenant's allowance), and a refusal *before* sending once the
day is spent, so that the org stops with a clear message instead of sleeping for hours.
"""

from __future__ import annotations

import bisect
import itertools
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
        #: When our calls in the last minute count at Xero (sorted): the moment a call was let
        #: through, moved to when its answer arrived (see :meth:`done`).
        self._minute: list[float] = []
        self._open: dict[int, float] = {}
        self._tickets = itertools.count(1)
        self._day: deque[float] = deque()
        self._pause_until = 0.0
        self._day_blocked_until = 0.0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.calls = 0
        self.minute_remaining: int | None = None
        self.day_remaining: int | None = None

    def acquire(self) -> int:
        """Wait for a slot in the minute; raise :class:`DayLimitReached` rather than wait hours.

        Safe from several threads (one per stream): the window is shared and a waiting thread
        sleeps without holding the lock, so others can record answers meanwhile. Returns a
        ticket for :meth:`done`.
        """
        while True:
            with self._lock:
                now = self.monotonic()
                wait, reason = self._wait(now)
                if wait <= 0:
                    ticket = next(self._tickets)
                    bisect.insort(self._minute, now)
                    self._open[ticket] = now
                    self._day.append(now)
                    self.calls += 1
                    return ticket
            log_rate_limit_wait("Xero", reason, wait)
            self.sleep(wait)

    def _wait(self, now: float) -> tuple[float, str]:
        """How long until the next call may go (<= 0: now), and why; under the lock."""
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
        if self._pause_until > now:
            return self._pause_until - now, "Xero's minute allowance nearly spent"
        if len(self._minute) >= self.minute_limit:
            return MINUTE - (now - self._minute[0]), f"{self.minute_limit} calls a minute reached"
        return 0.0, ""

    def done(self, ticket: int) -> None:
        """The call's answer started to arrive: it counts in the minute from now on.

        Xero starts a call's minute when the request reaches it, which is after the moment
        it was let through here and before its answer's headers arrived; counting from those
        keeps our window at least as full as Xero's, so the 61st call never arrives early,
        without also waiting for a large body to be read.
        """
        with self._lock:
            stamp = self._open.pop(ticket, None)
            if stamp is None:
                return
            index = bisect.bisect_left(self._minute, stamp)
            if index < len(self._minute) and self._minute[index] == stamp:
                del self._minute[index]
            bisect.insort(self._minute, self.monotonic())

    def _trim(self, now: float) -> None:
        expired = bisect.bisect_right(self._minute, now - MINUTE)
        if expired:
            del self._minute[:expired]
        while self._day and now - self._day[0] >= DAY:
            self._day.popleft()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """At most five calls in flight per tenant, whichever threads make them."""
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
                # Only when Xero counts more calls than we made: someone else shares the
                # tenant's allowance. Our own calls are paced by the window already.
                if minute_left <= MINUTE_RESERVE and minute_left < (
                    self.minute_limit - len(self._minute)
                ):
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
