"""The demo's two months: each simulated day the real daemon cycle runs for every org.

Every day the sandboxes' clocks and syncd's clock are set to the same moment, customers'
payments due that day are recorded in the sandboxes, and :func:`run_org_once` (what
``syncd run-once`` and the daemon's jobs run: sync, plan into the outbox, execute) runs for
each org. Review stays on; the demo approves what waits through the review queue itself,
as ``syncd review approve --all`` would, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from syncd.clock import FixedClock
from syncd.config.loader import LoadedConfig
from syncd.daemon.runner import OrgRun, run_org_once
from syncd.outbox.executor import Executor
from syncd.review.queue import ReviewError, Selection, approve
from syncd.store import Store
from syncd.store.models import Org, OutboxAction, OutboxStatus

from .payers import Payers, Payment
from .sandboxes import DemoOrg, DemoSandboxError

#: Who approved, as the review queue and the audit log record it.
APPROVER = "syncd demo (auto-approved)"

#: Local time of each org's daily cycle: inside the default send window (09:00-17:00), as
#: the daemon's ``dunning_cron`` runs it in the org's own timezone.
CYCLE_AT = time(10, 0)

DayHook = Callable[[int, list[OrgRun]], None]


@dataclass
class Simulation:
    store: Store
    config: LoadedConfig
    orgs: list[DemoOrg]
    clock: FixedClock
    payers: Payers
    #: The backfill's moment: day 0 starts here, before either org's morning.
    start: datetime
    approved: int = 0
    errors: list[str] = field(default_factory=list)
    paid: list[Payment] = field(default_factory=list)
    _seen: set[int] = field(default_factory=set)

    def _approve(self, org: str) -> Callable[[Executor], None]:
        """Runs between planning and execution: approve what the cycle held for review."""

        def hook(_executor: Executor) -> None:
            with self.store.sessions.begin() as session:
                try:
                    rows = approve(
                        session,
                        Selection(everything=True, org=org),
                        now=self.clock.now(),
                        by=APPROVER,
                    )
                except ReviewError:  # nothing waits today
                    return
                self.approved += len(rows)

        return hook

    def _pay(self, org: DemoOrg, day: int) -> None:
        for payment in self.payers.due(day):
            if payment.org != org.name:
                continue
            try:
                org.pay(payment.invoice_id, self.clock.now().astimezone(org.tz).date())
            except DemoSandboxError as exc:  # e.g. paid or voided meanwhile: say so, go on
                self.errors.append(str(exc))
                continue
            self.paid.append(payment)

    def _note_reminders(self, day: int) -> None:
        """Reminders sent since the last look: the customers may pay them."""
        with self.store.sessions() as session:
            rows = session.execute(
                select(OutboxAction.id, Org.name, OutboxAction.payload)
                .join(Org, Org.id == OutboxAction.org_id)
                .where(
                    OutboxAction.kind == "email",
                    OutboxAction.status == OutboxStatus.DONE.value,
                )
            ).all()
        for action_id, org, payload in rows:
            if action_id not in self._seen:
                self._seen.add(action_id)
                self.payers.reminded(org, day, payload)

    def cycle_time(self, org: DemoOrg, day: int) -> datetime:
        """When the daemon's dunning job runs for ``org`` on ``day``: its local morning."""
        calendar_day = (self.start + timedelta(days=day)).date()
        return datetime.combine(calendar_day, CYCLE_AT, tzinfo=org.tz).astimezone(UTC)

    def day(self, day: int) -> list[OrgRun]:
        """Simulated day ``day`` (0 is the backfill's day): for each org at its own local
        morning, the customers' payments due that day, then one cycle."""
        runs = []
        for org in sorted(self.orgs, key=lambda o: self.cycle_time(o, day)):
            at = self.cycle_time(org, day)
            self.clock.current = at
            org.set_clock(at)  # the provider's clock where syncd's is
            self._pay(org, day)
            run = run_org_once(
                self.store, self.config, org.name, self.clock, executor_hook=self._approve(org.name)
            )
            if run.error:
                self.errors.append(f"day {day}, {run.org}: {run.error}")
            runs.append(run)
        self._note_reminders(day)
        return runs

    def run(self, days: int, on_day: DayHook | None = None) -> None:
        for day in range(days):
            runs = self.day(day)
            if on_day is not None:
                on_day(day, runs)
