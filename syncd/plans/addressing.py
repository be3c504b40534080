"""A plan's emails to a customer syncd has no address for: held for review, not failed.

The same rule as the dunning cycle's emails (``syncd.review.address``): an email that could
only fail at send time, after a human may already have approved it, waits
(``awaiting_review``) with the reason that says what to fix. Once a sync brings the address
in, the next cycle puts it back on its ordinary path: pending, or still held with the reason
its kind would be held for anyway (a confirmation always waits for approval unless exempt).

``syncd.review.hold.release_addressed`` releases only the kinds in
``syncd.review.address.ADDRESSED_KINDS``; the plan kinds are released here, by the public
functions of ``syncd.review.address`` only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config.loader import LoadedConfig
from ..review.address import is_address_hold, no_address_reason, unaddressed_customers
from ..store.audit import record
from ..store.models import OutboxAction, OutboxStatus
from .common import enqueue, review_reason

#: The plan's emails, sent by SMTP to the customer's own address.
PLAN_EMAIL_KINDS = frozenset({"plan_confirmation", "plan_reminder"})


def queue_plan_email(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    *,
    org_id: int,
    key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    customer_id: str,
    reason: str,
) -> bool:
    """Queue a plan email exactly once per key: held for the missing address first (what
    must be fixed before anyone can usefully approve it), else the kind's review decision."""
    review = (
        no_address_reason(customer_id)
        if customer_id in unaddressed_customers(session, org_id, [customer_id])
        else review_reason(session, config, org_name, kind, org_id=org_id, customer_id=customer_id)
    )
    return enqueue(
        session,
        org_id=org_id,
        key=key,
        kind=kind,
        payload=payload,
        now=now,
        review=review,
        customer_id=customer_id,
        reason=reason,
    )


def release_plan_emails(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, now: datetime
) -> int:
    """Plan emails held for a missing address whose customer has one now go back on their
    ordinary path. Returns how many were released."""
    held = [
        row
        for row in session.scalars(
            select(OutboxAction)
            .where(
                OutboxAction.org_id == org_id,
                OutboxAction.status == OutboxStatus.AWAITING_REVIEW.value,
                OutboxAction.kind.in_(PLAN_EMAIL_KINDS),
            )
            .with_for_update()
        )
        if is_address_hold(row.review_reason)
    ]
    customers = {row.customer_provider_id or "" for row in held}
    still = unaddressed_customers(session, org_id, customers) if held else set()
    released = [row for row in held if (row.customer_provider_id or "") not in still]
    for row in released:
        review = review_reason(
            session, config, org_name, row.kind, org_id=org_id, customer_id=row.customer_provider_id
        )
        if review is None:
            row.status = OutboxStatus.PENDING.value
        row.review_reason, row.updated_at = review, now
        record(
            session,
            at=now,
            event="action.address_found",
            org_id=org_id,
            subject_type="action",
            subject_id=row.idempotency_key,
            status=row.status,
            review=review,
        )
    return len(released)
