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
from datetime import timedelta

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

DayHook = Callable[[int, list[OrgRun]], None]


@dataclass
class Simulation:
    store: Store
    config: LoadedConfig
    orgs: list[DemoOrg]
    clock: FixedClock
    payers: Payers
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

    def _pay(self, day: int) -> None:
        by_name = {o.name: o for o in self.orgs}
        for payment in self.payers.due(day):
            try:
                by_name[payment.org].pay(payment.invoice_id, self.clock.now().date())
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

    def day(self, day: int) -> list[OrgRun]:
        """Simulated day ``day`` (0 is the backfill's day): pay, then one cycle per org."""
        if day > 0:  # day 0 is when the sandboxes started; their clocks only move forward
            for org in self.orgs:
                org.set_clock(self.clock.now())
        self._pay(day)
        runs = [
            run_org_once(
                self.store,
                self.config,
                org.name,
                self.clock,
                executor_hook=self._approve(org.name),
            )
            for org in self.orgs
        ]
        for run in runs:
            if run.error:
                self.errors.append(f"day {day}, {run.org}: {run.error}")
        self._note_reminders(day)
        return runs

    def run(self, days: int, on_day: DayHook | None = None) -> None:
        for day in range(days):
            runs = self.day(day)
            if on_day is not None:
                on_day(day, runs)
            self.clock.advance(timedelta(days=1))
