"""``syncd run``: the long-running service on APScheduler 3 (BlockingScheduler).

Per org: an incremental sync every ``sync_interval_minutes``, the dunning cycle (sync, plan,
execute) on ``dunning_cron`` in the org's own timezone, and the executor every minute for
actions whose time has come or whose retry is due. Jobs coalesce, never overlap
(``max_instances=1`` plus one lock per org), and a misfired job still runs once within the
grace time. SIGTERM and SIGINT let the action in flight finish, then stop.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import connect, org_id_for
from ..logs import get_logger
from ..outbox.executor import Executor
from ..store import Store
from ..sync import Syncer
from .runner import default_mailer, run_org_once

log = get_logger(__name__)


class Service:
    def __init__(
        self, store: Store, config: LoadedConfig, clock: Clock, *, dry_run: bool = False
    ) -> None:
        self.store, self.config, self.clock, self.dry_run = store, config, clock, dry_run
        self.scheduler = BlockingScheduler(timezone="UTC")
        self.locks = {o.name: threading.Lock() for o in config.settings.orgs}
        self.executors: set[Executor] = set()
        self.stop_requested = False

    def _guarded(self, org: str, job: str, fn: Callable[[], Any]) -> None:
        lock = self.locks[org]
        if not lock.acquire(blocking=False):
            log.info("skipped: org busy", org=org, job=job)
            return
        try:
            fn()
        except Exception:  # logged and retried at the next run; other orgs are unaffected
            log.exception("job failed", org=org, job=job)
        finally:
            lock.release()

    def _sync(self, org: str) -> None:
        connector = connect(self.store, self.config, org, self.clock)
        try:
            org_id = org_id_for(self.store, self.config, org, self.clock)
            Syncer(self.store, org_id, org, connector, self.clock, company_info=True).sync()
        finally:
            connector.close()

    def _cycle(self, org: str) -> None:
        run = run_org_once(
            self.store,
            self.config,
            org,
            self.clock,
            dry_run=self.dry_run,
            executor_hook=self.executors.add,
        )
        if run.error:
            log.error("dunning cycle failed", org=org, error=run.error)

    def _execute(self, org: str) -> None:
        if self.dry_run:
            return
        connector = connect(self.store, self.config, org, self.clock)
        try:
            org_id = org_id_for(self.store, self.config, org, self.clock)
            executor = Executor(
                self.store,
                org_id,
                connector,
                now=self.clock.now,
                send_email=default_mailer(self.store, self.config, org, org_id, self.clock),
            )
            self.executors.add(executor)
            executor.run()
        finally:
            self.executors.discard(executor)
            connector.close()

    def schedule(self) -> None:
        daemon = self.config.settings.daemon
        common: dict[str, Any] = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": daemon.misfire_grace_seconds,
        }
        for org in self.config.settings.orgs:
            name = org.name
            self.scheduler.add_job(
                self._guarded,
                IntervalTrigger(minutes=daemon.sync_interval_minutes),
                args=(name, "sync", lambda n=name: self._sync(n)),
                id=f"{name}:sync",
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
                **common,
            )

    def stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("stopping: finishing the action in flight", signal=signal.Signals(signum).name)
        self.stop_requested = True
        for executor in list(self.executors):
            executor.stopping = True
        self._shutdown()

    def _shutdown(self, _event: object = None) -> None:
        if not self.stop_requested:
            return
        # A signal can land before start() marked the scheduler running: then the start
        # listener below calls this again once it is.
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=True)

    def run(self) -> None:
        self.schedule()
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.scheduler.add_listener(self._shutdown, EVENT_SCHEDULER_STARTED)
        log.info("syncd running", orgs=[o.name for o in self.config.settings.orgs])
        self.scheduler.start()
