"""Executing outbox actions exactly once.

Every action moves pending → in flight → done | failed | skipped, each transition committed
with its audit entry. The recovery rules after a crash:

* provider writes (note, provider email, fee, interest) are simply executed again with the
  same idempotency key: the provider replays its first answer (QuickBooks ``requestid``, Xero
  ``Idempotency-Key``) and the connector recognises its own ``[syncd:KEY]`` tag;
* an email whose ``handed_at`` is set may have reached the SMTP server and is never sent
  again (it is closed as done, flagged "unconfirmed"); one without it never left, and is
  sent.

Only the process holding the org's lease (:mod:`syncd.store.leases`) executes: every claim
first proves, in its own transaction, that the lease is still ours, and records the claimant
and the lease generation on the row. ``in_flight`` rows of an older generation belong to a
holder that is gone and are recovered; those of the current holder are never touched.

Before acting, the invoice is known fresh: a paid, voided or deleted invoice is skipped with the
reason, never dunned. The run reads its invoices in batches and keeps them fresh with
version-checked writes or confirming re-reads made just before (:mod:`.freshness`).

What an action does is its kind's registered handler (``syncd.outbox.handlers``, one module
per kind); this module owns only the exactly-once machinery around it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connectors.base import (
    AuthError,
    Connector,
    InvoiceRecord,
    InvoiceStatus,
    Page,
    PermanentError,
    TransientError,
    WritesFromRead,
)

from ..crashpoints import crashpoint
from ..logs import get_logger
from ..review.address import NoUsableAddress
from ..store import Store, apply_page
from ..store.audit import record
from ..store.leases import OrgLease
from ..store.models import HoldKind, OutboxAction, OutboxStatus
from .freshness import UNKNOWN, FreshInvoices, Known, invoices_named, is_unknown
from .handlers.base import EmailSender as EmailSender
from .handlers.base import Skip as Skip
from .handlers.registry import handler as registered_handler

log = get_logger(__name__)

__all__ = ["EmailSender", "ExecutionReport", "Executor", "ReconnectRequired", "Skip"]


class ReconnectRequired(AuthError):
    """The provider refused syncd's credentials: the org's run stops until reconnected."""

    def __init__(self, detail: str) -> None:
        message = (
            detail
            if "reconnect the organisation" in detail
            else (f"{detail}; reconnect the organisation")
        )
        super().__init__(f"the provider refused syncd's credentials: {message}")


@dataclass
class ExecutionReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    #: Put back in review, held for the customer's address (:meth:`Executor._hold_for_address`).
    held: int = 0
    errors: list[str] = field(default_factory=list)


def _given_back(row: OutboxAction) -> dict[str, Any]:
    """The claim released without burning an attempt: nothing was sent."""
    return {"attempts": max(0, row.attempts - 1), "claimed_by": None, "lease_generation": None}


class Executor:
    def __init__(
        self,
        store: Store,
        org_id: int,
        connector: Connector,
        *,
        now: Callable[[], datetime],
        send_email: EmailSender | None = None,
        dry_run: bool = False,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(minutes=1),
        max_backoff: timedelta = timedelta(hours=6),
        lease: OrgLease | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self.store, self.org_id, self.connector = store, org_id, connector
        #: The org's lease held by the caller; without one, :meth:`run` takes its own.
        self.lease, self.lease_seconds = lease, lease_seconds
        self.now, self.send_email, self.dry_run = now, send_email, dry_run
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.stopping = False
        #: This run's batched fresh reads (see :mod:`.freshness`).
        self.fresh_reads: FreshInvoices | None = None
        #: The due action being executed (its place in the run, for grouped re-reads).
        self._position = 0

    # -- selection -------------------------------------------------------------------------

    def _due(self, session: Session) -> list[int]:
        now = self.now()
        stmt = (
            select(OutboxAction.id)
            .where(
                OutboxAction.org_id == self.org_id,
                or_(
                    OutboxAction.status == OutboxStatus.PENDING.value,
                    and_(
                        OutboxAction.status == OutboxStatus.IN_FLIGHT.value,
                        self._abandoned(),
                    ),
                ),
                OutboxAction.scheduled_for <= now,
                or_(OutboxAction.next_attempt_at.is_(None), OutboxAction.next_attempt_at <= now),
            )
            .order_by(OutboxAction.scheduled_for, OutboxAction.id)
        )
        return list(session.scalars(stmt))

    def _abandoned(self) -> Any:
        """In-flight rows claimed under an older lease generation: their holder is gone."""
        generation = self.lease.generation if self.lease else 0
        return or_(
            OutboxAction.lease_generation.is_(None),
            OutboxAction.lease_generation < generation,
        )

    def run(self) -> ExecutionReport:
        if self.lease is not None:
            return self._run()
        own = OrgLease(
            self.store, self.org_id, f"org {self.org_id}", seconds=self.lease_seconds or 60.0
        )
        self.lease = own.acquire()
        try:
            return self._run()
        finally:
            own.release()
            self.lease = None

    def _run(self) -> ExecutionReport:
        report = ExecutionReport()
        with self.store.sessions() as session:
            due = self._due(session)
            named = {} if self.dry_run else invoices_named(session, due)
        self.fresh_reads = FreshInvoices(self.store, self.org_id, self.connector, self.now)
        self.fresh_reads.load([i for _, ids in named.values() for i in ids])
        self.fresh_reads.expect([self._needs_confirming(*named.get(a, ("", []))) for a in due])
        for position, action_id in enumerate(due):
            if self.stopping:
                break
            self._position = position
            self._one(action_id, report)
        return report

    def _needs_confirming(self, kind: str, invoice_ids: list[str]) -> list[str]:
        """All the invoices an action names, unless its write is version-checked."""
        capability = getattr(registered_handler(kind), "capability", None)
        return [] if capability and self.writes_versioned(capability) else invoice_ids

    # -- transitions -----------------------------------------------------------------------

    def _transition(
        self, action_id: int, status: OutboxStatus, event: str, **changes: Any
    ) -> OutboxAction:
        now = self.now()
        with self.store.sessions.begin() as session:
            row = session.get(OutboxAction, action_id, with_for_update=True)
            assert row is not None
            row.status = status.value
            row.updated_at = now
            for name, value in changes.items():
                setattr(row, name, value)
            record(
                session,
                at=now,
                event=event,
                org_id=self.org_id,
                subject_type="action",
                subject_id=row.idempotency_key,
                status=status.value,
                **{k: v for k, v in changes.items() if k in ("last_error", "remote_id", "result")},
            )
            session.flush()
            session.expunge(row)
            return row

    def _claim(self, action_id: int) -> OutboxAction | None:
        now = self.now()
        lease = self.lease
        assert lease is not None
        with self.store.sessions.begin() as session:
            lease.fence(session)  # first: takes the lock, so nothing can interleave
            row = session.get(OutboxAction, action_id, with_for_update=True)
            if row is None or row.status not in (
                OutboxStatus.PENDING.value,
                OutboxStatus.IN_FLIGHT.value,
            ):
                return None
            recovering = row.status == OutboxStatus.IN_FLIGHT.value
            if recovering and (row.lease_generation or 0) >= lease.generation:
                return None  # claimed under the current lease: not abandoned
            row_claimant = (row.claimed_by or "unknown").rsplit(":", 1)[0]
            row.status = OutboxStatus.IN_FLIGHT.value
            row.attempts += 1
            row.updated_at = now
            row.claimed_by, row.lease_generation = lease.token, lease.generation
            record(
                session,
                at=now,
                event="action.recovered" if recovering else "action.started",
                org_id=self.org_id,
                subject_type="action",
                subject_id=row.idempotency_key,
                attempt=row.attempts,
                **({"previous_claimant": row_claimant} if recovering else {}),
            )
            session.flush()
            session.expunge(row)
        return row

    def _one(self, action_id: int, report: ExecutionReport) -> None:
        if self.dry_run:
            with self.store.sessions() as session:
                row = session.get(OutboxAction, action_id)
                assert row is not None
                log.info("dry run: would execute", action=row.idempotency_key, kind=row.kind)
            return
        crashpoint("executor.before_claim")
        row = self._claim(action_id)
        if row is None:
            return
        crashpoint("executor.after_claim")
        if row.handed_at is not None:
            # Crashed after the body went to the SMTP server (or another transport the
            # handler handed it to): it may have been delivered.
            self._transition(
                action_id,
                OutboxStatus.DONE,
                "action.done",
                result={"delivery": "unconfirmed: process stopped after SMTP hand-off"},
            )
            report.done += 1
            return
        try:
            result = self._execute(row)
        except Skip as exc:
            self._transition(action_id, OutboxStatus.SKIPPED, "action.skipped", last_error=str(exc))
            report.skipped += 1
            return
        except TransientError as exc:
            self._retry_or_fail(row, str(exc), exc.retry_after, report)
            return
        except AuthError as exc:
            self._unclaim(row, exc)
            raise ReconnectRequired(str(exc)) from None
        except NoUsableAddress as exc:
            self._hold_for_address(row, exc)
            report.held += 1
            return
        except PermanentError as exc:
            self._transition(action_id, OutboxStatus.FAILED, "action.failed", last_error=str(exc))
            report.failed += 1
            report.errors.append(f"{row.idempotency_key}: {exc}")
            return
        crashpoint("executor.before_done")
        self._transition(action_id, OutboxStatus.DONE, "action.done", **result)
        crashpoint("executor.after_done")
        report.done += 1

    def _unclaim(self, row: OutboxAction, exc: AuthError) -> None:
        """Back to pending without burning an attempt: the action did not fail, the
        connection did, and it runs as soon as a human reconnects the organisation."""
        self._transition(
            row.id,
            OutboxStatus.PENDING,
            "action.interrupted",
            last_error=f"not sent: {exc}",
            **_given_back(row),
        )

    def _hold_for_address(self, row: OutboxAction, exc: NoUsableAddress) -> None:
        """Nothing was sent: the email goes back in review, held for its address, its approval
        spent (it was given for an address that no longer works) and its attempt not counted;
        the sync that brings a usable address releases it, as it does any address hold."""
        self._transition(
            row.id,
            OutboxStatus.AWAITING_REVIEW,
            "action.held",
            last_error=f"not sent: {exc}",
            review_reason=exc.reason,
            hold_kind=HoldKind.ADDRESS.value,
            reviewed_by=None,
            reviewed_at=None,
            **_given_back(row),
        )

    def _retry_or_fail(
        self, row: OutboxAction, error: str, retry_after: float | None, report: ExecutionReport
    ) -> None:
        if row.attempts >= self.max_attempts:
            self._transition(row.id, OutboxStatus.FAILED, "action.failed", last_error=error)
            report.failed += 1
            report.errors.append(f"{row.idempotency_key}: gave up after {row.attempts}: {error}")
            return
        delay = min(self.max_backoff, self.backoff * (2 ** (row.attempts - 1)))
        delay = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
        if retry_after:
            delay = max(delay, timedelta(seconds=retry_after))
        self._transition(
            row.id,
            OutboxStatus.PENDING,
            "action.retry",
            last_error=error,
            next_attempt_at=self.now() + delay,
        )
        report.retrying += 1

    # -- the work --------------------------------------------------------------------------

    def fresh(self, invoice_id: str, known: Known = UNKNOWN) -> InvoiceRecord:
        """The invoice as the provider has it now (stored as seen); skip if it closed.

        ``known`` is a read made for this action already; otherwise an invoice this run's
        batch saw closed needs no read at all, and an open one is confirmed by a re-read
        made moments before (with the next few actions' invoices, see :mod:`.freshness`).
        """
        if is_unknown(known) and self.fresh_reads is not None:
            known = self.fresh_reads.current(invoice_id, self._position)
        return self._decide(invoice_id, known)

    def seen(self, invoice_id: str) -> InvoiceRecord:
        """What this run last read of the invoice, for a write the provider refuses if the
        invoice changed since (skip if that read saw it closed)."""
        known = self.fresh_reads.seen(invoice_id) if self.fresh_reads is not None else UNKNOWN
        return self._decide(invoice_id, known)

    def reread(self, invoice_id: str) -> InvoiceRecord:
        """Read the invoice on its own now (after a refused stale write) and decide again."""
        return self._decide(invoice_id, UNKNOWN)

    def writes_versioned(self, capability: str) -> bool:
        connector = self.connector
        return isinstance(connector, WritesFromRead) and connector.writes_versioned(capability)

    def _decide(self, invoice_id: str, known: Known) -> InvoiceRecord:
        if is_unknown(known):
            fresh = self.connector.fetch_invoice(invoice_id)
            crashpoint("executor.after_fresh_read")
            if fresh is not None:
                self.apply_invoice(fresh)
        else:
            fresh = known if isinstance(known, InvoiceRecord) else None  # None: gone
            crashpoint("executor.after_fresh_read")
        if fresh is None:
            raise Skip(f"invoice {invoice_id} no longer exists at the provider")
        if fresh.status is not InvoiceStatus.OPEN or fresh.balance <= 0:
            raise Skip(
                f"invoice {invoice_id} is {fresh.status.value} now (balance {fresh.balance})"
            )
        return fresh

    def apply_invoice(self, record: InvoiceRecord) -> None:
        if self.fresh_reads is not None:
            self.fresh_reads.remember(record)
        with self.store.sessions.begin() as session:
            apply_page(session, self.org_id, Page(invoices=(record,)), now=self.now())

    def _execute(self, row: OutboxAction) -> dict[str, Any]:
        """The kind's registered handler does the work (``syncd.outbox.handlers``)."""
        handler = registered_handler(row.kind)
        if handler is None:
            raise PermanentError(f"unknown action kind {row.kind!r}")
        return handler.execute(self, row)

    def fresh_many(self, invoice_ids: list[str]) -> dict[str, InvoiceRecord]:
        """:meth:`fresh` for several invoices (one confirming re-read); closed ones left out."""
        reads = self.fresh_reads
        unconfirmed = reads.unconfirmed(invoice_ids) if reads is not None else []
        if reads is not None and unconfirmed:
            reads.confirm_group(unconfirmed, self._position)
        out: dict[str, InvoiceRecord] = {}
        for pid in invoice_ids:
            try:
                out[pid] = self.fresh(pid)
            except Skip:
                continue  # paid since planning
        return out
