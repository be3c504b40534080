"""A plan's emails to a customer syncd has no address for: held for review, not failed.

The same rule as the dunning cycle's emails (``syncd.review.address``): an email that could
only fail at send time, after a human may already have approved it, waits
(``awaiting_review``) with the reason that says what to fix and the hold kind
``HoldKind.ADDRESS`` (``queue_action(email=True)`` in ``common``), so approving it is refused
while the address is missing. Once a sync brings the address in, the next cycle puts it
back on its ordinary path: pending, or still held with the reason its kind would be held for
anyway (a confirmation always waits for approval unless exempt).

``syncd.review.hold.release_addressed`` releases only the kinds in
``syncd.review.address.ADDRESSED_KINDS`` (its re-judging is the dunning cycle's review rule);
the plan kinds are released here, with the plans' own review rule.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..config.loader import LoadedConfig
from ..review.address import (
    address_holds,
    lift_address_hold,
    refresh_address_hold,
    unaddressed_customers,
)
from .common import review_reason

#: The plan's emails, sent by SMTP to the customer's own address.
PLAN_EMAIL_KINDS = frozenset({"plan_confirmation", "plan_reminder"})


def release_plan_emails(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, now: datetime
) -> int:
    """Plan emails held for a missing address whose customer has one now go back on their
    ordinary path; those still without one keep waiting with the reason of what the field
    holds now (as the dunning cycle's emails do). Returns how many were released."""
    held = address_holds(session, org_id, PLAN_EMAIL_KINDS)
    if not held:
        return 0
    customers = {row.customer_provider_id or "" for row in held}
    still = unaddressed_customers(session, org_id, customers)
    released = 0
    for row in held:
        reason = still.get(row.customer_provider_id or "")
        if reason is not None:
            refresh_address_hold(row, reason, now)
            continue
        review = review_reason(
            session, config, org_name, row.kind, org_id=org_id, customer_id=row.customer_provider_id
        )
        lift_address_hold(session, row, review, now)
        released += 1
    return released
