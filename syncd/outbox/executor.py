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
holder that is gone and are recovered; those of the current holder are never touched
(:meth:`.transitions.Transitions.claim`).

Before acting, the invoice is known fresh: a paid, voided or deleted invoice is skipped with the
reason, never dunned (:mod:`.context`, over the run's batched reads in :mod:`.freshness`).

What an action does is its kind's registered handler (``syncd.outbox.handlers``, one module
per kind), which sees the executor as its :class:`~.context.ExecutionContext`; each status
change is written by :mod:`.transitions`. This module is the run itself: which actions are
due, and which transition each outcome of a handler calls for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connectors.base import AuthError, Connector, PermanentError, TransientError

from ..crashpoints import crashpoint
from ..logs import get_logger
from ..review.address import NoUsableAddress
from ..store import Store
from ..store.leases import OrgLease
from ..store.models import OutboxAction, OutboxStatus
from .context import ExecutionContext
from .freshness import FreshInvoices, invoices_named
from .handlers.base import EmailSender as EmailSender
from .handlers.base import Skip as Skip
from .handlers.registry import handler as registered_handler
from .transitions import Transitions

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
    #: Put back in review, held for the customer's address
    #: (:meth:`.transitions.Transitions.hold_for_address`).
    held: int = 0
    errors: list[str] = field(default_factory=list)


class Executor(ExecutionContext):
    """Runs one org's due actions, each exactly once (see the module's recovery rules); to
    each action's handler it is the :class:`~.context.ExecutionContext`."""

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
        self.transitions = Transitions(
            store, org_id, now, max_attempts=max_attempts, backoff=backoff, max_backoff=max_backoff
        )
        self.stopping = False
        self.fresh_reads = None
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

    # -- the run ---------------------------------------------------------------------------

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

    def _one(self, action_id: int, report: ExecutionReport) -> None:
        """Claim the action, let its handler act, and close it by the outcome."""
        if self.dry_run:
            with self.store.sessions() as session:
                row = session.get(OutboxAction, action_id)
                assert row is not None
                log.info("dry run: would execute", action=row.idempotency_key, kind=row.kind)
            return
        crashpoint("executor.before_claim")
        assert self.lease is not None
        row = self.transitions.claim(action_id, self.lease)
        if row is None:
            return
        crashpoint("executor.after_claim")
        move = self.transitions.move
        if row.handed_at is not None:
            # Crashed after the body went to the SMTP server (or another transport the
            # handler handed it to): it may have been delivered.
            unconfirmed = {"delivery": "unconfirmed: process stopped after SMTP hand-off"}
            move(action_id, OutboxStatus.DONE, "action.done", result=unconfirmed)
            report.done += 1
            return
        try:
            result = self._execute(row)
        except Skip as exc:
            move(action_id, OutboxStatus.SKIPPED, "action.skipped", last_error=str(exc))
            report.skipped += 1
            return
        except TransientError as exc:
            self._retry_or_fail(row, str(exc), exc.retry_after, report)
            return
        except AuthError as exc:
            self.transitions.unclaim(row, exc)
            raise ReconnectRequired(str(exc)) from None
        except NoUsableAddress as exc:
            self.transitions.hold_for_address(row, exc)
            report.held += 1
            return
        except PermanentError as exc:
            move(action_id, OutboxStatus.FAILED, "action.failed", last_error=str(exc))
            report.failed += 1
            report.errors.append(f"{row.idempotency_key}: {exc}")
            return
        crashpoint("executor.before_done")
        move(action_id, OutboxStatus.DONE, "action.done", **result)
        crashpoint("executor.after_done")
        report.done += 1

    def _retry_or_fail(
        self, row: OutboxAction, error: str, retry_after: float | None, report: ExecutionReport
    ) -> None:
        if self.transitions.retry_or_fail(row, error, retry_after):
            report.retrying += 1
            return
        report.failed += 1
        report.errors.append(f"{row.idempotency_key}: gave up after {row.attempts}: {error}")

    def _execute(self, row: OutboxAction) -> dict[str, Any]:
        """The kind's registered handler does the work (``syncd.outbox.handlers``)."""
        handler = registered_handler(row.kind)
        if handler is None:
            raise PermanentError(f"unknown action kind {row.kind!r}")
        return handler.execute(self, row)
