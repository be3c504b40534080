"""Moving provider data into the store: resumable backfills and incremental passes.

Each page is committed together with the cursor that follows it (one transaction per fact),
so a crash at any point resumes after the last committed page and loses nothing. Before a
backfill starts, the connector's notion of "now" is saved as the incremental cursor: whatever
changes while the backfill runs is picked up by the next incremental pass.

A backfill reads its streams (customers, invoices, payments) concurrently, one reader thread
each a few pages ahead, while this thread alone writes: the network waits overlap each other
and the store's work, and every page still commits with its own stream's cursor.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select, update

from connectors.base import (
    Connector,
    CursorExpiredError,
    EntityKind,
    InvoiceStatus,
    Page,
)

from .clock import Clock
from .company import refresh_company
from .crashpoints import crashpoint
from .logs import get_logger
from .prefetch import interleave, prefetch
from .store import Store, apply_page
from .store.audit import record
from .store.cursors import (
    get_cursor,
    refresh_statistics,
    relaxed_commit,
    set_cursor,
)
from .store.models import Customer, Invoice, SyncCursor
from .store.upserts import PageResult

CHANGES = "changes"
STREAMS = (EntityKind.CUSTOMERS, EntityKind.INVOICES, EntityKind.PAYMENTS)
log = get_logger(__name__)

#: Called after every committed page: (stream, records in page, running total).
ProgressFn = Callable[[str, int, int], None]


class _CollectionSpacing:
    """Collect the youngest generation every 50,000 allocations instead of every 700.

    A backfill allocates hundreds of thousands of records, lines and strings that are not
    garbage (they live until their page is written), so the default threshold runs a young
    collection, and every tenth an older one, over objects that all survive: about a tenth
    of a 100,000-invoice backfill's CPU (measured in bench, RESULTS.md). Nothing here builds
    reference cycles at that rate, so collecting less often costs no memory worth noting.
    The old thresholds come back when the last backfill in the process ends (the daemon may
    backfill several orgs at once, each in its own thread).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(50_000, self._saved[1], max(self._saved[2], 100))
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    gc.set_threshold(*self._saved)


_young_collections_spaced = _CollectionSpacing()


@dataclass
class SyncReport:
    org: str
    mode: str
    pages: int = 0
    result: PageResult = field(default_factory=PageResult)
    swept: int = 0

    def summary(self) -> dict[str, int]:
        r = self.result
        return {
            "pages": self.pages,
            "inserted": r.inserted,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "deleted": r.deleted + self.swept,
            "skipped": r.skipped,
            "stale": r.stale,
        }


def _records(page: Page) -> int:
    return (
        len(page.customers)
        + len(page.invoices)
        + len(page.payments)
        + len(page.deletions)
        + len(page.skipped)
    )


class Syncer:
    def __init__(
        self,
        store: Store,
        org_id: int,
        org_name: str,
        connector: Connector,
        clock: Clock,
        progress: ProgressFn | None = None,
        *,
        company_info: bool = False,
    ) -> None:
        self.store, self.org_id, self.org_name = store, org_id, org_name
        #: Also refresh the business's own details (one provider call, at most twice a day).
        self.company_info = company_info
        self.connector, self.clock = connector, clock
        self.progress = progress or (lambda _stream, _n, _total: None)

    def _commit(
        self,
        report: SyncReport,
        stream: str,
        pages: Iterator[Page],
        *,
        backfill: bool,
        keep_cursor: bool = True,
    ) -> set[str] | None:
        seen: set[str] | None = set() if report.mode == "full" else None
        total = 0
        for page in prefetch(pages):
            total = self._write(report, stream, page, total, backfill=backfill, keep=keep_cursor)
            if seen is not None:
                seen.update(_ids(stream, page))
        return seen

    def _write(
        self, report: SyncReport, stream: str, page: Page, total: int, *, backfill: bool, keep: bool
    ) -> int:
        """Commit one page (with its stream's cursor when ``keep``); the stream's new total."""
        now = self.clock.now()
        with self.store.sessions.begin() as session:
            if backfill and keep:
                relaxed_commit(session)
            result = apply_page(
                session,
                self.org_id,
                page,
                now=now,
                stream=stream if keep else None,
                backfill=backfill,
            )
        crashpoint("sync.after_page_commit")
        report.pages += 1
        report.result.add(result)
        total += _records(page)
        self.progress(stream, _records(page), total)
        for skipped in page.skipped:
            log.warning(
                "record skipped",
                org=self.org_name,
                entity=skipped.entity.value,
                provider_id=skipped.provider_id,
                reason=skipped.reason,
            )
        return total

    def _ensure_change_cursor(self) -> None:
        with self.store.sessions() as session:
            existing = get_cursor(session, self.org_id, CHANGES)
            if existing is not None and existing.cursor:
                return
        signpost = self.connector.cursor_now()
        with self.store.sessions.begin() as session:
            set_cursor(
                session, self.org_id, CHANGES, signpost, now=self.clock.now(), backfill=False
            )

    def backfill(self, *, restart: bool = False) -> SyncReport:
        report = SyncReport(self.org_name, "backfill")
        if restart:
            with self.store.sessions.begin() as session:
                session.execute(
                    update(SyncCursor)
                    .where(SyncCursor.org_id == self.org_id, SyncCursor.stream != CHANGES)
                    .values(backfill_resume=None, backfill_completed_at=None)
                )
        self._ensure_change_cursor()
        streams: dict[str, Iterator[Page]] = {}
        for entity in STREAMS:
            with self.store.sessions() as session:
                cursor = get_cursor(session, self.org_id, entity.value)
                if cursor is not None and cursor.backfill_completed_at is not None:
                    continue
                resume = cursor.backfill_resume if cursor else None
            streams[entity.value] = self.connector.backfill(entity, resume)
        # The streams are read concurrently and written by this thread alone, page by page
        # in arrival order, each page with its own stream's cursor: a crash resumes every
        # stream after its last committed page. Nothing in the store needs one stream before
        # another (allocations and invoices name customers and invoices by provider id).
        totals = dict.fromkeys(streams, 0)
        with _young_collections_spaced():
            self._write_streams(report, streams, totals)
        if streams:
            with self.store.sessions.begin() as session:
                refresh_statistics(session)
        self._audit(report)
        return report

    def _write_streams(
        self, report: SyncReport, streams: dict[str, Iterator[Page]], totals: dict[str, int]
    ) -> None:
        for stream, page in interleave(streams):
            if page is None:
                self._complete(stream)
            else:
                totals[stream] = self._write(
                    report, stream, page, totals[stream], backfill=True, keep=True
                )

    def _complete(self, stream: str) -> None:
        with self.store.sessions.begin() as session:
            now = self.clock.now()
            row = session.get(SyncCursor, (self.org_id, stream))
            if row is None:
                row = SyncCursor(org_id=self.org_id, stream=stream, updated_at=now)
                session.add(row)
            row.backfill_resume, row.backfill_completed_at, row.updated_at = None, now, now

    def backfill_done(self) -> bool:
        with self.store.sessions() as session:
            done = session.scalars(
                select(SyncCursor.stream).where(
                    SyncCursor.org_id == self.org_id,
                    SyncCursor.backfill_completed_at.is_not(None),
                )
            ).all()
        return {e.value for e in STREAMS} <= set(done)

    def sync(self) -> SyncReport:
        """One incremental pass; finishes an incomplete backfill first."""
        if not self.backfill_done():
            report = self.backfill()
            report.mode = "backfill"
            return report
        with self.store.sessions() as session:
            cursor_row = get_cursor(session, self.org_id, CHANGES)
            cursor = cursor_row.cursor if cursor_row else None
        if not cursor:
            self._ensure_change_cursor()
            return self.sync()
        report = SyncReport(self.org_name, "incremental")
        try:
            self._commit(report, CHANGES, self.connector.changes(cursor), backfill=False)
        except CursorExpiredError as exc:
            log.warning("change cursor expired; doing a full pull", org=self.org_name, why=str(exc))
            return self.full_pull()
        self._audit(report)
        return report

    def full_pull(self) -> SyncReport:
        """Re-read everything and mark what the provider no longer returns as deleted."""
        report = SyncReport(self.org_name, "full")
        signpost = self.connector.cursor_now()
        for entity in (EntityKind.CUSTOMERS, EntityKind.INVOICES):
            pages = self.connector.backfill(entity, None)
            seen = self._commit(report, entity.value, pages, backfill=True, keep_cursor=False)
            report.swept += self._sweep(entity, seen or set())
        pages = self.connector.backfill(EntityKind.PAYMENTS, None)
        self._commit(report, EntityKind.PAYMENTS.value, pages, backfill=True, keep_cursor=False)
        with self.store.sessions.begin() as session:
            set_cursor(
                session, self.org_id, CHANGES, signpost, now=self.clock.now(), backfill=False
            )
        self._audit(report)
        return report

    def _sweep(self, entity: EntityKind, seen: set[str]) -> int:
        """What a full pull did not return was deleted while the change feed was out of reach."""
        now = self.clock.now()
        swept = 0
        with self.store.sessions.begin() as session:
            if entity is EntityKind.INVOICES:
                rows = session.scalars(
                    select(Invoice).where(
                        Invoice.org_id == self.org_id,
                        Invoice.status != InvoiceStatus.DELETED.value,
                    )
                )
                for inv in rows:
                    if inv.provider_id not in seen:
                        inv.status, inv.balance, inv.synced_at = "deleted", inv.balance * 0, now
                        swept += 1
            else:
                customers = session.scalars(
                    select(Customer).where(Customer.org_id == self.org_id, ~Customer.deleted)
                )
                for cust in customers:
                    if cust.provider_id not in seen:
                        cust.deleted, cust.active, cust.synced_at = True, False, now
                        swept += 1
        return swept

    def _audit(self, report: SyncReport) -> None:
        # Every sync mode ends here: also the moment to refresh the business's own details.
        if self.company_info:
            refresh_company(self.store, self.org_id, self.connector, self.clock.now())
        with self.store.sessions.begin() as session:
            record(
                session,
                at=self.clock.now(),
                event=f"sync.{report.mode}",
                org_id=self.org_id,
                subject_type="org",
                subject_id=self.org_name,
                counts=report.summary(),
            )
        log.info(f"{report.mode} finished", org=self.org_name, **report.summary())


def _ids(stream: str, page: Page) -> Iterator[str]:
    if stream.endswith(EntityKind.INVOICES.value):
        yield from (r.provider_id for r in page.invoices)
    elif stream.endswith(EntityKind.CUSTOMERS.value):
        yield from (r.provider_id for r in page.customers)
