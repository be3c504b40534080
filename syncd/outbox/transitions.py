"""Every change of an outbox row's status, each committed in its own transaction with its
audit entry.

The executor decides *which* change an action's outcome calls for; this module is the only
place that writes it, so the exactly-once rules live in one small surface:

* a claim first proves, under the row lock, that the org's lease is still ours, and takes
  only a pending row or one in flight under an older lease generation (its holder is gone);
* a claim given back (credentials refused, address gone) does not count as an attempt:
  nothing was sent;
* a transient failure is retried with exponential backoff and jitter until the attempts run
  out, then failed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import AuthError

from ..review.address import NoUsableAddress
from ..store import Store
from ..store.audit import record
from ..store.leases import OrgLease
from ..store.models import HoldKind, OutboxAction, OutboxStatus


def given_back(row: OutboxAction) -> dict[str, Any]:
    """The claim released without burning an attempt: nothing was sent."""
    return {"attempts": max(0, row.attempts - 1), "claimed_by": None, "lease_generation": None}


class Transitions:
    """The status changes of one org's outbox rows (``now`` stamps each and its audit)."""

    def __init__(
        self,
        store: Store,
        org_id: int,
        now: Callable[[], datetime],
        *,
        max_attempts: int,
        backoff: timedelta,
        max_backoff: timedelta,
    ) -> None:
        self.store, self.org_id, self.now = store, org_id, now
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff

    def _audit(
        self, session: Session, row: OutboxAction, event: str, at: datetime, **fields: Any
    ) -> None:
        """The change's audit entry, in the transaction that makes it."""
        record(
            session,
            at=at,
            event=event,
            org_id=self.org_id,
            subject_type="action",
            subject_id=row.idempotency_key,
            **fields,
        )

    def move(
        self, action_id: int, status: OutboxStatus, event: str, **changes: Any
    ) -> OutboxAction:
        """``status`` and ``changes`` on the row, with an audit entry named ``event``."""
        now = self.now()
        with self.store.sessions.begin() as session:
            row = session.get(OutboxAction, action_id, with_for_update=True)
            assert row is not None
            row.status = status.value
            row.updated_at = now
            for name, value in changes.items():
                setattr(row, name, value)
            kept = {k: v for k, v in changes.items() if k in ("last_error", "remote_id", "result")}
            self._audit(session, row, event, now, status=status.value, **kept)
            session.flush()
            session.expunge(row)
            return row

    def claim(self, action_id: int, lease: OrgLease) -> OutboxAction | None:
        """The row, in flight under ``lease`` with one more attempt; None when it is not ours
        to run (done meanwhile, or claimed under the current lease by another worker)."""
        now = self.now()
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
            self._audit(
                session,
                row,
                "action.recovered" if recovering else "action.started",
                now,
                attempt=row.attempts,
                **({"previous_claimant": row_claimant} if recovering else {}),
            )
            session.flush()
            session.expunge(row)
        return row

    def unclaim(self, row: OutboxAction, exc: AuthError) -> None:
        """Back to pending without burning an attempt: the action did not fail, the
        connection did, and it runs as soon as a human reconnects the organisation."""
        self.move(
            row.id,
            OutboxStatus.PENDING,
            "action.interrupted",
            last_error=f"not sent: {exc}",
            **given_back(row),
        )

    def hold_for_address(self, row: OutboxAction, exc: NoUsableAddress) -> None:
        """Nothing was sent: the email goes back in review, held for its address, its approval
        spent (it was given for an address that no longer works) and its attempt not counted;
        the sync that brings a usable address releases it, as it does any address hold."""
        self.move(
            row.id,
            OutboxStatus.AWAITING_REVIEW,
            "action.held",
            last_error=f"not sent: {exc}",
            review_reason=exc.reason,
            hold_kind=HoldKind.ADDRESS.value,
            reviewed_by=None,
            reviewed_at=None,
            **given_back(row),
        )

    def retry_or_fail(self, row: OutboxAction, error: str, retry_after: float | None) -> bool:
        """Pending again after a backoff (at least the provider's ``retry_after``), or failed
        once its attempts are spent; False when it failed."""
        if row.attempts >= self.max_attempts:
            self.move(row.id, OutboxStatus.FAILED, "action.failed", last_error=error)
            return False
        delay = min(self.max_backoff, self.backoff * (2 ** (row.attempts - 1)))
        delay = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
        if retry_after:
            delay = max(delay, timedelta(seconds=retry_after))
        self.move(
            row.id,
            OutboxStatus.PENDING,
            "action.retry",
            last_error=error,
            next_attempt_at=self.now() + delay,
        )
        return True
