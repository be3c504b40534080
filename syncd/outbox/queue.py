"""Putting an action into the outbox: exactly once per (org, idempotency key), audited.

Every producer of actions (the dunning cycle, payment plans and settlements, letters that
travel by email) goes through here, so "already queued" means the same thing everywhere:
the outbox's unique key refused the row, inside the caller's transaction, and nothing else
was written. A row that is new gets its ``action.planned`` audit entry in that same
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.models import HoldKind, OutboxAction, OutboxStatus

_KEY = ["org_id", "idempotency_key"]


def enqueue(
    session: Session,
    *,
    org_id: int,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    review: str | None,
    hold_kind: HoldKind | None = None,
    invoice_id: str | None = None,
    customer_id: str | None = None,
    reason: str = "",
    scheduled_for: datetime | None = None,
) -> bool:
    """Queue one outbox action, exactly once per key; True if it was new (False: another
    process, or an earlier cycle, queued the same key). ``review`` holds it for a person
    with that reason; ``hold_kind`` marks a hold syncd lifts by itself once its cause is
    gone. It runs from ``scheduled_for`` (default ``now``)."""
    values = {
        "org_id": org_id,
        "idempotency_key": key,
        "kind": kind,
        "invoice_provider_id": invoice_id,
        "customer_provider_id": customer_id,
        "payload": payload,
        "status": (OutboxStatus.AWAITING_REVIEW if review else OutboxStatus.PENDING).value,
        "review_reason": review,
        "hold_kind": hold_kind.value if hold_kind else None,
        "attempts": 0,
        "scheduled_for": now if scheduled_for is None else scheduled_for,
        "created_at": now,
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(OutboxAction).values(**values).on_conflict_do_nothing(index_elements=_KEY)
    if session.execute(stmt.returning(OutboxAction.id)).first() is None:
        return False
    record(
        session,
        at=now,
        event="action.planned",
        org_id=org_id,
        subject_type="action",
        subject_id=key,
        reason=reason,
        review=review,
    )
    return True
