"""Draining the webhook queue: targeted reads, store writes, then pending actions settled.

One worker thread handles one org at a time, merging everything queued for that org since
its last turn (Intuit asks that a realm's notifications be processed linearly). Each turn
holds the org's guard (the daemon's per-org lock; the cross-process org lease plugs in at
the same place) so a webhook sync never overlaps that org's sync, cycle or executor.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from connectors.base import Connector, EntityKind, Page

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import connect, org_id_for
from ..logs import get_logger
from ..store import Store, apply_page
from ..store.audit import record
from ..sync import Syncer
from .payloads import Targets
from .settle import skip_closed

log = get_logger(__name__)

#: ``guard(org)`` yields True while this process may work on the org, False if it may not
#: (busy elsewhere); the worker then puts the work back and tries again later.
Guard = Callable[[str], AbstractContextManager[bool]]


@contextlib.contextmanager
def no_guard(_org: str) -> Iterator[bool]:
    yield True


class WebhookWorker:
    def __init__(
        self,
        store: Store,
        config: LoadedConfig,
        clock: Clock,
        *,
        guard: Guard = no_guard,
        retry_seconds: float = 5.0,
    ) -> None:
        self.store, self.config, self.clock, self.guard = store, config, clock, guard
        self.retry_seconds = retry_seconds
        self.queue: queue.Queue[str] = queue.Queue()
        self.pending: dict[str, Targets] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="webhook-worker", daemon=True)
        #: Completed turns, for tests and metrics: (org, invoices re-read, actions skipped).
        self.turns: list[tuple[str, int, int]] = []
        #: Turns put back because the org was busy.
        self.deferred = 0

    def enqueue(self, org: str, targets: Targets) -> None:
        with self.lock:
            if org in self.pending:
                self.pending[org].merge(targets)
                return
            self.pending[org] = Targets()
            self.pending[org].merge(targets)
        self.queue.put(org)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 8.0) -> None:
        self.stopping.set()
        self.queue.put("")
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            org = self.queue.get()
            if not org:
                continue
            with self.lock:
                targets = self.pending.pop(org, None)
            if targets is None:
                continue
            try:
                self._turn(org, targets)
            except Exception:  # logged; the next scheduled sync catches up
                log.exception("webhook sync failed", org=org)

    def _turn(self, org: str, targets: Targets) -> None:
        with self.guard(org) as allowed:
            if allowed:
                self.process(org, targets)
                return
        log.info("webhook sync deferred: org busy", org=org)
        self.deferred += 1
        if not self.stopping.wait(self.retry_seconds):
            self.enqueue(org, targets)

    def process(self, org: str, targets: Targets) -> None:
        org_id = org_id_for(self.store, self.config, org, self.clock)
        connector = connect(self.store, self.config, org, self.clock)
        try:
            invoices = set(targets.invoices)
            # A connector without batched reads: its incremental pass covers the same ids.
            resync = targets.resync or not callable(getattr(connector, "fetch_records", None))
            if not resync:
                invoices |= self._targeted(org_id, connector, targets)
            if resync:
                Syncer(self.store, org_id, org, connector, self.clock).sync()
        finally:
            connector.close()
        self._settle(org, org_id, invoices, targets, everything=resync)

    def _targeted(self, org_id: int, connector: Connector, targets: Targets) -> set[str]:
        """Customers, then payments: the invoices they pay are re-read with the ones named."""
        invoices = set(targets.invoices)
        if targets.customers:
            page = connector.fetch_records(EntityKind.CUSTOMERS, sorted(targets.customers))
            self._apply(org_id, page)
        if targets.payments:
            page = connector.fetch_records(EntityKind.PAYMENTS, sorted(targets.payments))
            self._apply(org_id, page)
            for payment in page.payments:
                invoices.update(a.invoice_provider_id for a in payment.allocations)
        if invoices:
            self._apply(org_id, connector.fetch_records(EntityKind.INVOICES, sorted(invoices)))
        return invoices

    def _settle(
        self, org: str, org_id: int, invoices: set[str], targets: Targets, *, everything: bool
    ) -> None:
        now = self.clock.now()
        skipped = skip_closed(self.store, org_id, None if everything else invoices, now)
        with self.store.sessions.begin() as session:
            record(
                session,
                at=now,
                event="webhook.synced",
                org_id=org_id,
                subject_type="org",
                subject_id=org,
                invoices=sorted(invoices),
                payments=sorted(targets.payments),
                resync=targets.resync,
                skipped=skipped,
            )
        self.turns.append((org, len(invoices), len(skipped)))
        log.info(
            "webhook sync done",
            org=org,
            invoices=len(invoices),
            payments=len(targets.payments),
            skipped_actions=len(skipped),
        )

    def _apply(self, org_id: int, page: Page) -> None:
        with self.store.sessions.begin() as session:
            apply_page(session, org_id, page, now=self.clock.now())
