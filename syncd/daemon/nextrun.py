"""Log lines saying what the daemon runs next and when, so a quiet daemon is not a mystery.

At start-up one line per job, then one after each run: the job, the org, and the next run
time both in the org's own timezone (the dunning cron is read there) and in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

from ..logs import get_logger

log = get_logger(__name__)


def job_id(org: str, job: str) -> str:
    return f"{org}:{job}"


def log_next_run(scheduler: BaseScheduler, org: str, job: str, timezone: str) -> None:
    found: Job | None = scheduler.get_job(job_id(org, job))
    when: datetime | None = getattr(found, "next_run_time", None) if found else None
    if when is None:
        log.info("next run: none scheduled", org=org, job=job)
        return
    log.info(
        "next run",
        org=org,
        job=job,
        at=when.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds"),
        timezone=timezone,
        at_utc=when.astimezone(UTC).isoformat(timespec="seconds"),
    )


def log_schedule(scheduler: BaseScheduler, timezones: dict[str, str]) -> None:
    """Every job's next run, soonest first."""
    jobs = [j for j in scheduler.get_jobs() if getattr(j, "next_run_time", None) is not None]
    for job in sorted(jobs, key=lambda j: (j.next_run_time, j.id)):
        org, _, name = str(job.id).rpartition(":")
        if org in timezones:
            log_next_run(scheduler, org, name, timezones[org])
