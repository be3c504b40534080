"""Emails to customers syncd has no address for: held for review, not failed.

An email action whose customer has no address would only fail at send time, after a human
may already have approved it. The cycle therefore holds it (``awaiting_review``) with a reason
that says what to fix, marked with the hold kind ``HoldKind.ADDRESS``; once a sync brings the
address in, :func:`syncd.review.hold.release_addressed` puts the action back on its ordinary
path. The
address counts the way the mailer counts it: the customer's own, or the billing address
QuickBooks keeps on the invoice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.models import Customer, HoldKind, Invoice, OutboxAction, OutboxStatus

#: Kinds syncd sends by SMTP to the customer's own address.
ADDRESSED_KINDS = frozenset({"email"})
#: What every such hold's reason says (for the human reading it; the release finds its own
#: holds by ``OutboxAction.hold_kind``, never by this text).
NO_ADDRESS = "has no email address"
_CHUNK = 5000


def no_address_reason(customer_id: str) -> str:
    return (
        f"customer {customer_id} {NO_ADDRESS}: add one at the provider; "
        "the next sync releases this email"
    )


def email_addresses(field: object) -> list[str]:
    """The addresses in one provider email field, in order, blanks and repeats dropped.

    QuickBooks lets a business put several addresses in one field, separated by commas
    (people type semicolons too), and sends its own emails to every one of them; a reminder
    must reach the same people. A field holding only separators or spaces holds no address.
    """
    found: list[str] = []
    for part in re.split(r"[,;]", str(field or "")):
        address = part.strip()
        if address and address.lower() not in (f.lower() for f in found):
            found.append(address)
    return found


def bill_emails(raw: object) -> list[str]:
    """The billing addresses QuickBooks keeps on an invoice's raw payload (none: empty); the
    payload is any mapping, as stored or as a connector's fresh read hands it over."""
    bill = raw.get("BillEmail") if isinstance(raw, Mapping) else None
    return email_addresses(bill.get("Address") if isinstance(bill, Mapping) else None)


def unaddressed_customers(session: Session, org_id: int, customers: Iterable[str]) -> set[str]:
    """The customers (provider ids) no email could be addressed to."""
    wanted = sorted(set(customers))
    lacking: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(Customer.provider_id, Customer.email).where(
                Customer.org_id == org_id, Customer.provider_id.in_(chunk)
            )
        )
        lacking.update(set(chunk) - {pid for pid, email in rows if email_addresses(email)})
    if not lacking:
        return lacking
    billed = {
        customer
        for customer, raw in session.execute(
            select(Invoice.customer_provider_id, Invoice.raw).where(
                Invoice.org_id == org_id,
                Invoice.customer_provider_id.in_(sorted(lacking)),
                Invoice.balance > 0,
            )
        )
        if bill_emails(raw)
    }
    return lacking - billed


def address_holds(session: Session, org_id: int, kinds: Iterable[str]) -> list[OutboxAction]:
    """The org's actions of ``kinds`` held for a missing address, locked for release (read by
    their hold kind, an index, so a cycle with none waiting costs one index probe)."""
    return list(
        session.scalars(
            select(OutboxAction)
            .where(
                OutboxAction.org_id == org_id,
                OutboxAction.hold_kind == HoldKind.ADDRESS.value,
                OutboxAction.status == OutboxStatus.AWAITING_REVIEW.value,
                OutboxAction.kind.in_(sorted(kinds)),
            )
            .with_for_update()
        )
    )


def lift_address_hold(
    session: Session, row: OutboxAction, review: str | None, now: datetime
) -> None:
    """The address has come: ``row`` goes on to its ordinary path, pending or held for
    ``review`` (the reason its kind would be held for anyway), and the audit log says so."""
    if review is None:
        row.status = OutboxStatus.PENDING.value
    row.review_reason, row.hold_kind, row.updated_at = review, None, now
    record(
        session,
        at=now,
        event="action.address_found",
        org_id=row.org_id,
        subject_type="action",
        subject_id=row.idempotency_key,
        status=row.status,
        review=review,
    )
