"""``syncd run``: the long-running service on APScheduler 3.

Per org: an incremental sync every ``sync_interval_minutes``, the dunning cycle (sync, plan,
execute) on ``dunning_cron`` in the org's own timezone, and the executor every minute for
actions whose time has come or whose retry is due (sync and executor also once at start, to
pick up what a stopped daemon left). Jobs coalesce, never overlap (``max_instances=1``, one
lock per org in this process and the org's lease in the store across processes: an org that
another process is working on is skipped this round), and a misfired job still runs once
within the grace time.

Stopping: the signal handler only sets a flag. It must not log, lock or shut the scheduler
down itself: it runs on the main thread between two bytecodes, possibly while that thread
holds the (non-reentrant) lock of the log stream, and any of those would deadlock there; that
was how a SIGTERM once left the daemon running. The main thread notices the flag, asks every
executor to stop after its action in flight, waits for them up to ``stop_grace_seconds``,
and returns. Jobs run in daemon threads, so a sync still waiting on a slow provider does not
keep the process alive (what it synced is committed page by page).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.base import AuthError, ConnectorError

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import connect, org_id_for
from ..logs import get_logger
from ..metrics import Metrics, StoreCollector
from ..outbox.executor import Executor
from ..review.digest import send_digest_if_due
from ..store import Store
from ..store.leases import OrgBusy, OrgLease
from ..sync import Syncer
from ..webhooks.receiver import WebhookReceiver, lock_guard
from .cycleretry import CycleRetry
from .health import Health
from .nextrun import log_next_run, log_schedule
from .probes import ProbeServer
from .runner import default_mailer, run_org_once, take_lease

log = get_logger(__name__)

#: How long a job waits for the org's lock held by a short job in this process. The cycle
#: must not miss its day; the sync must not lose to the executor, which starts with it and
#: then runs every minute: on the same beat, a sync that gave way at once lost every time.
#: The executor itself gives way (it runs again within the minute).
_LOCK_WAIT = {"cycle": 60.0, "sync": 60.0}

#: How often the main thread looks at the stop flag.
_POLL_SECONDS = 0.2


class DaemonThreadExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each job in its own daemon thread (APScheduler's pool threads are joined at exit)."""

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def target() -> None:
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException:
                _, exc, tb = sys.exc_info()
                self._run_job_error(job.id, exc, tb)
            else:
                self._run_job_success(job.id, events)

        threading.Thread(target=target, name=f"job {job.id}", daemon=True).start()


class JobFailed(Exception):
    """A job whose failure was already logged where it happened (the dunning cycle's)."""

    def __init__(self, message: str, cause: Exception | None) -> None:
        super().__init__(message)
        self.cause = cause


class Service:
    def __init__(
        self, store: Store, config: LoadedConfig, clock: Clock, *, dry_run: bool = False
    ) -> None:
        self.store, self.config, self.clock, self.dry_run = store, config, clock, dry_run
        self.scheduler = BackgroundScheduler(
            timezone="UTC", executors={"default": DaemonThreadExecutor()}
        )
        self.locks = {o.name: threading.Lock() for o in config.settings.orgs}
        self.leases: dict[str, OrgLease] = {}
        self.executors: set[Executor] = set()
        self.stop_requested = False
        daemon = config.settings.daemon
        self.health = Health(
            [o.name for o in config.settings.orgs],
            budget=timedelta(minutes=2 * daemon.sync_interval_minutes),
            stuck_after=timedelta(minutes=daemon.job_timeout_minutes),
            scheduler_alive=lambda: bool(self.scheduler.running),
        )
        self.retry = CycleRetry(
            self.scheduler, timedelta(minutes=daemon.sync_interval_minutes), daemon.cycle_retries
        )
        self.metrics = Metrics()
        self.metrics.add(
            StoreCollector(store, [o.name for o in config.settings.orgs], clock.now, self.health)
        )

    def _guarded(self, org: str, job: str, fn: Callable[[], Any]) -> None:
        if self.stop_requested:
            return
        lock = self.locks[org]
        if not lock.acquire(timeout=_LOCK_WAIT.get(job, 0)):
            log.info("skipped: org busy", org=org, job=job)
            return
        lease: OrgLease | None = None
        try:
            org_id = org_id_for(self.store, self.config, org, self.clock)
            lease = take_lease(self.store, self.config, org, org_id)
            self.leases[org] = lease
            self.health.started(org, job)
            fn()
            self.health.succeeded(org, job)
            if job == "cycle":
                self.retry.succeeded(org)
        except OrgBusy as exc:
            log.info("skipped: org busy in another process", org=org, job=job, holder=str(exc))
        except JobFailed as exc:  # logged where it happened
            self._failed(org, job, str(exc), needs_human=isinstance(exc.cause, AuthError))
        except ConnectorError as exc:  # the provider's answer says it all: no traceback
            log.error("job failed", org=org, job=job, error=str(exc))
            self._failed(org, job, str(exc), needs_human=isinstance(exc, AuthError))
        except Exception as exc:  # logged and retried at the next run; other orgs are unaffected
            log.exception("job failed", org=org, job=job)
            self._failed(org, job, f"{type(exc).__name__}: {exc}")
        finally:
            self.leases.pop(org, None)
            if lease is not None:
                lease.release()
            lock.release()
            log_next_run(self.scheduler, org, job, self.config.settings.org(org).timezone)

    def _failed(self, org: str, job: str, error: str, *, needs_human: bool = False) -> None:
        self.health.failed(org, job, error, needs_human=needs_human)
        if job == "cycle" and not needs_human and not self.stop_requested:
            self.retry.after_failure(
                org,
                self.config.settings.org(org).timezone,
                lambda: self._guarded(org, "cycle", lambda: self._cycle(org)),
                self.config.settings.daemon.misfire_grace_seconds,
            )

    def _track(self, executor: Executor) -> None:
        self.executors.add(executor)
        if self.stop_requested:
            executor.stopping = True

    def _sync(self, org: str) -> None:
        connector = connect(self.store, self.config, org, self.clock)
        try:
            org_id = org_id_for(self.store, self.config, org, self.clock)
            Syncer(self.store, org_id, org, connector, self.clock, company_info=True).sync()
        finally:
            connector.close()

    def _cycle(self, org: str) -> None:
        tracked: list[Executor] = []

        def hook(executor: Executor) -> None:
            tracked.append(executor)
            self._track(executor)

        try:
            run = run_org_once(
                self.store,
                self.config,
                org,
                self.clock,
                dry_run=self.dry_run,
                executor_hook=hook,
                lease=self.leases[org],
            )
        finally:
            self.executors.difference_update(tracked)
        if run.error:
            log.error("dunning cycle failed", org=org, error=run.error)
            raise JobFailed(run.error, run.cause)

    def _execute(self, org: str) -> None:
        if self.dry_run:
            return
        connector = connect(self.store, self.config, org, self.clock)
        executor: Executor | None = None
        try:
            org_id = org_id_for(self.store, self.config, org, self.clock)
            executor = Executor(
                self.store,
                org_id,
                connector,
                now=self.clock.now,
                send_email=default_mailer(self.store, self.config, org, org_id, self.clock),
                lease=self.leases[org],
            )
            self._track(executor)
            executor.run()
        finally:
            if executor is not None:
                self.executors.discard(executor)
            connector.close()

    def _digest(self, org: str) -> None:
        if self.dry_run or not self.config.settings.email.digest_to:
            return
        org_id = org_id_for(self.store, self.config, org, self.clock)
        send_digest_if_due(self.store, self.config, org, org_id, self.clock)

    def schedule(self) -> None:
        daemon = self.config.settings.daemon
        common: dict[str, Any] = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": daemon.misfire_grace_seconds,
        }
        at_start = datetime.now(UTC)
        for org in self.config.settings.orgs:
            name = org.name
            self.scheduler.add_job(
                self._guarded,
                IntervalTrigger(minutes=daemon.sync_interval_minutes),
                args=(name, "sync", lambda n=name: self._sync(n)),
                id=f"{name}:sync",
                next_run_time=at_start,
                **common,
            )
            self.scheduler.add_job(
                self._guarded,
                CronTrigger.from_crontab(daemon.dunning_cron, timezone=org.timezone),
                args=(name, "cycle", lambda n=name: self._cycle(n)),
                id=f"{name}:cycle",
                **common,
            )
            self.scheduler.add_job(
                self._guarded,
                IntervalTrigger(minutes=1),
                args=(name, "execute", lambda n=name: self._execute(n)),
                id=f"{name}:execute",
                next_run_time=at_start,
                **common,
            )
            if self.config.settings.email.digest_to:
                # The review digest: checked every 10 minutes, sent at most once a day.
                self.scheduler.add_job(
                    self._guarded,
                    IntervalTrigger(minutes=10),
                    args=(name, "digest", lambda n=name: self._digest(n)),
                    id=f"{name}:digest",
                    **common,
                )

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        # Only a flag: see the module docstring for why nothing else may happen here.
        self.stop_requested = True
        self.stop_signal = signum

    def _wind_down(self) -> None:
        log.info(
            "stopping: finishing the action in flight",
            signal=signal.Signals(getattr(self, "stop_signal", signal.SIGTERM)).name,
        )
        for executor in list(self.executors):
            executor.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.config.settings.daemon.stop_grace_seconds
        while self.executors and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS / 4)
        if self.executors:
            log.warning("stopped with an action still in flight; it is recovered at next start")
        log.info("stopped")

    def _scheduler_started(self) -> None:
        self.scheduler.start()
        log.info("syncd running", orgs=[o.name for o in self.config.settings.orgs])
        log_schedule(self.scheduler, {o.name: o.timezone for o in self.config.settings.orgs})

    def run(self) -> None:
        self.schedule()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        probes: ProbeServer | None = None
        receiver: WebhookReceiver | None = None
        unwatch = self.metrics.watch_calls()
        try:
            probes = self._probes()
            receiver = self._webhooks()
            if not self.stop_requested:
                self._scheduler_started()
            while not self.stop_requested:
                time.sleep(_POLL_SECONDS)
            self.health.stopping = True
            self._wind_down()
        finally:
            unwatch()
            if receiver is not None:
                receiver.stop()
            if probes is not None:
                probes.stop()

    def _probes(self) -> ProbeServer | None:
        """``/healthz`` and ``/metrics``, when ``[daemon] metrics_address`` is set."""
        address = self.config.settings.daemon.metrics_address
        if not address:
            return None
        try:
            server = ProbeServer(address, self.health, self.metrics.registry)
        except OSError as exc:
            log.error(
                "health and metrics endpoint cannot listen",
                address=address,
                error=exc.strerror or str(exc),
                hint="another process uses the port: set [daemon] metrics_address",
            )
            raise SystemExit(2) from None
        server.start()
        return server

    def _webhooks(self) -> WebhookReceiver | None:
        """The webhook receiver, when ``[daemon] webhook_address`` is set."""
        if not self.config.settings.daemon.webhook_address or self.dry_run:
            return None
        address = self.config.settings.daemon.webhook_address
        try:
            receiver = WebhookReceiver(self.store, self.config, self.clock, guard=self._org_guard)
        except OSError as exc:
            log.error("webhook receiver cannot listen", address=address, error=exc.strerror)
            raise SystemExit(2) from None
        receiver.start()
        return receiver

    @contextlib.contextmanager
    def _org_guard(self, org: str) -> Iterator[bool]:
        """A webhook turn works on the org like any job: this process's lock, then the
        org's lease across processes; False (the worker retries later) when either is busy."""
        with lock_guard(self.locks)(org) as got:
            if not got:
                yield False
                return
            try:
                org_id = org_id_for(self.store, self.config, org, self.clock)
                lease = take_lease(self.store, self.config, org, org_id)
            except OrgBusy as exc:
                log.info("webhook sync deferred: org busy", org=org, holder=str(exc))
                yield False
                return
            try:
                yield True
            finally:
                lease.release()
