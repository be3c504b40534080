"""What ``/healthz`` says: is the scheduler alive, and is every org's work getting done?

Each scheduled job (sync, cycle, execute, digest) of each org reports how its run ended. A
failed job is retried at its next run, so one failure is not yet a problem. The **retry
budget** of a failing job is two sync intervals (``[daemon] sync_interval_minutes``) from its
first failure: by then the sync has been retried twice, so a blip has had its chance to
clear and what remains needs a look. A failure the provider's answer says no retry can fix
(it refused the org's credentials: ``AuthError``) has no budget: a human must reconnect the
organisation. The daily dunning cycle gets the same budget, but its next run is normally the
next day, so the daemon also retries a failed cycle later the same day
(:mod:`syncd.daemon.cycleretry`); one that still fails stays unhealthy until one succeeds:
that day's reminders were not planned, which is what an operator must hear about.

A job that never ends is as bad as one that fails, and quieter: APScheduler runs one
instance of a job at a time, so a sync stuck on a socket silently skips every later sync of
that org. A job running longer than ``[daemon] job_timeout_minutes`` is reported as stuck.

Times are the machine's real time, as the scheduler's are, whatever ``--now`` says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..logs import scrub


def system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobState:
    runs: int = 0
    last_success: datetime | None = None
    #: First failure of the current run of failures (None: the last run succeeded).
    failing_since: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    needs_human: bool = False
    #: When the run in progress started (None: not running).
    running_since: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "last_success": _iso(self.last_success),
            "failing_since": _iso(self.failing_since),
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "running_since": _iso(self.running_since),
        }


@dataclass(frozen=True)
class Problem:
    org: str
    job: str
    error: str
    since: datetime
    failures: int
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "job": self.job,
            "error": self.error,
            "since": _iso(self.since),
            "consecutive_failures": self.failures,
            "why": self.why,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class Health:
    """Job outcomes per org, written by job threads, read by the HTTP thread."""

    def __init__(
        self,
        orgs: list[str],
        budget: timedelta,
        *,
        stuck_after: timedelta = timedelta(hours=1),
        scheduler_alive: Callable[[], bool] = lambda: True,
        now: Callable[[], datetime] = system_now,
    ) -> None:
        self.budget, self.scheduler_alive, self.now = budget, scheduler_alive, now
        self.stuck_after = stuck_after
        self._jobs: dict[str, dict[str, JobState]] = {org: {} for org in orgs}
        self._lock = threading.Lock()
        self.stopping = False

    def _state(self, org: str, job: str) -> JobState:
        return self._jobs.setdefault(org, {}).setdefault(job, JobState())

    def started(self, org: str, job: str) -> None:
        with self._lock:
            self._state(org, job).running_since = self.now()

    def succeeded(self, org: str, job: str) -> None:
        with self._lock:
            state = self._state(org, job)
            state.runs += 1
            state.running_since = None
            state.last_success, state.failing_since = self.now(), None
            state.consecutive_failures, state.needs_human = 0, False

    def failed(self, org: str, job: str, error: str, *, needs_human: bool = False) -> None:
        with self._lock:
            state = self._state(org, job)
            state.runs += 1
            state.running_since = None
            if state.failing_since is None:
                state.failing_since = self.now()
            state.consecutive_failures += 1
            # Connector messages carry no secrets, but scrub what the log scrubs anyway.
            state.last_error, state.needs_human = scrub(error)[:500], needs_human

    def last_success(self) -> dict[tuple[str, str], datetime]:
        with self._lock:
            return {
                (org, job): s.last_success
                for org, jobs in self._jobs.items()
                for job, s in jobs.items()
                if s.last_success is not None
            }

    def problems(self) -> list[Problem]:
        now = self.now()
        with self._lock:
            return [
                problem
                for org, jobs in self._jobs.items()
                for job, state in jobs.items()
                for problem in (
                    self._stuck(org, job, state, now),
                    self._failing(org, job, state, now),
                )
                if problem is not None
            ]

    def _stuck(self, org: str, job: str, s: JobState, now: datetime) -> Problem | None:
        if s.running_since is None or now - s.running_since <= self.stuck_after:
            return None
        why = f"running for longer than {self.stuck_after}: stuck? (later runs are skipped)"
        return Problem(org, job, "still running", s.running_since, s.consecutive_failures, why)

    def _failing(self, org: str, job: str, s: JobState, now: datetime) -> Problem | None:
        if s.failing_since is None or s.last_error is None:
            return None
        if s.needs_human:
            why = "the provider refused the credentials: reconnect the organisation"
        elif now - s.failing_since > self.budget:
            why = f"failing for longer than the retry budget ({self.budget})"
        else:
            return None
        return Problem(org, job, s.last_error, s.failing_since, s.consecutive_failures, why)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body that says why)."""
        alive = self.scheduler_alive() and not self.stopping
        problems = self.problems()
        with self._lock:
            orgs = {
                org: {job: s.as_dict() for job, s in sorted(jobs.items())}
                for org, jobs in sorted(self._jobs.items())
            }
        healthy = alive and not problems
        body: dict[str, Any] = {
            "status": "ok" if healthy else "failing",
            "scheduler": "running" if alive else ("stopping" if self.stopping else "stopped"),
            "retry_budget_seconds": int(self.budget.total_seconds()),
            "problems": [p.as_dict() for p in problems],
            "orgs": orgs,
        }
        return healthy, body
