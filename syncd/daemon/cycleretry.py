"""A failed dunning cycle is tried again the same day.

The cycle runs once a day (``dunning_cron``): without a retry, a provider's five-minute outage
at nine o'clock means no reminders that day, and nobody learns of it before ``/healthz`` is
read. Retries back off from one sync interval, doubling, and stop after ``[daemon]
cycle_retries`` tries a day or at the end of the org's local day: the next day's cycle plans
afresh, and a reminder sent at midnight helps nobody. A refused login is never retried (a
human must reconnect the org). Running the cycle again is safe: planning is idempotent and the
outbox acts on each action exactly once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.date import DateTrigger

from ..logs import get_logger
from .health import system_now

log = get_logger(__name__)


class CycleRetry:
    """Schedules the next try of an org's failed cycle, counting tries per local day."""

    def __init__(
        self,
        scheduler: Any,
        first_delay: timedelta,
        retries: int,
        *,
        now: Callable[[], datetime] = system_now,
    ) -> None:
        self.scheduler, self.first_delay, self.retries, self.now = (
            scheduler,
            first_delay,
            retries,
            now,
        )
        self._tries: dict[str, tuple[date, int]] = {}
        self._lock = threading.Lock()

    def after_failure(
        self, org: str, timezone: str, run: Callable[[], None], grace_seconds: int
    ) -> datetime | None:
        """When the cycle will be tried again, or None when it will not be today."""
        now = self.now()
        zone = ZoneInfo(timezone)
        today = now.astimezone(zone).date()
        with self._lock:
            day, tries = self._tries.get(org, (today, 0))
            tries = tries + 1 if day == today else 1
            self._tries[org] = (today, tries)
        when = now + self.first_delay * (1 << (tries - 1))
        if tries > self.retries or when.astimezone(zone).date() != today:
            log.error("dunning cycle not retried today", org=org, tries=tries - 1)
            self._drop(org)
            return None
        self.scheduler.add_job(
            run,
            DateTrigger(run_date=when),
            id=f"{org}:cycle-retry",
            replace_existing=True,
            misfire_grace_time=grace_seconds,
            coalesce=True,
            max_instances=1,
        )
        log.warning(
            "dunning cycle failed: trying again", org=org, at=when.isoformat(), attempt=tries
        )
        return when

    def succeeded(self, org: str) -> None:
        """A cycle that ran: later failures today start from the first delay again."""
        with self._lock:
            self._tries.pop(org, None)
        self._drop(org)

    def _drop(self, org: str) -> None:
        """No try left pending (a retry that ran is gone already; this one did not run)."""
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(f"{org}:cycle-retry")
