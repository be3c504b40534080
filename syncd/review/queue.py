"""The review queue: actions held as ``awaiting_review``, listed, approved or skipped.

Approving puts an action back to ``pending``: the next executor pass (``run-once`` or the
daemon) runs it. Skipping closes it as ``skipped`` with the reason. Both record who and when
on the row and in the audit log, in the same transaction. A skipped action is never planned
again: the cycle that planned it already recorded its step (or fee period) as fired in the
invoice's dunning state, and its idempotency key stays in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.models import Customer, HoldKind, Org, OutboxAction, OutboxStatus
from .address import unaddressed_customers


class ReviewError(ValueError):
    """A user's selection that matches nothing or makes no sense; shown as one line."""


@dataclass(frozen=True)
class Selection:
    """Which awaiting actions an approve / skip applies to (all criteria combine)."""

    ids: tuple[int, ...] = ()
    customer: str | None = None
    kind: str | None = None
    everything: bool = False
    org: str | None = None

    def check(self) -> None:
        if not (self.ids or self.customer or self.kind or self.everything):
            raise ReviewError("say which actions: IDs, --customer, --kind or --all")


@dataclass
class Pending:
    row: OutboxAction
    org: str
    customer_name: str | None
    invoices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def customer(self) -> str | None:
        return self.row.customer_provider_id

    def amount(self) -> tuple[Decimal | None, str | None]:
        """The fee's amount, or what an email demands (when all in one currency)."""
        payload = self.row.payload
        if payload.get("amount") is not None:
            return Decimal(str(payload["amount"])), payload.get("currency")
        currencies = {i.get("currency") for i in self.invoices}
        if len(currencies) == 1 and all(i.get("balance") is not None for i in self.invoices):
            return sum((Decimal(str(i["balance"])) for i in self.invoices), Decimal(0)), next(
                iter(currencies)
            )
        return None, None


def _invoices(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = list(payload.get("invoices") or [])
    if items:
        return items
    single = payload.get("invoice")
    return [dict(single)] if single else []


def _customer_filter(session: Session, customer: str) -> Any:
    """A customer by provider id or, failing that, by exact name (case-insensitive)."""
    named = select(Customer.provider_id, Customer.org_id).where(
        func.lower(Customer.name) == customer.lower()
    )
    pairs = session.execute(named).all()
    return or_(
        OutboxAction.customer_provider_id == customer,
        *(
            and_(OutboxAction.customer_provider_id == pid, OutboxAction.org_id == oid)
            for pid, oid in pairs
        ),
    )


def pending(session: Session, selection: Selection | None = None) -> list[Pending]:
    """Actions awaiting review, grouped by org and customer, oldest first within each."""
    sel = selection or Selection()
    stmt = (
        select(OutboxAction, Org.name, Customer.name)
        .join(Org, Org.id == OutboxAction.org_id)
        .outerjoin(
            Customer,
            and_(
                Customer.org_id == OutboxAction.org_id,
                Customer.provider_id == OutboxAction.customer_provider_id,
            ),
        )
        .where(OutboxAction.status == OutboxStatus.AWAITING_REVIEW.value)
    )
    if sel.org:
        stmt = stmt.where(Org.name == sel.org)
    if sel.ids:
        stmt = stmt.where(OutboxAction.id.in_(sel.ids))
    if sel.kind:
        stmt = stmt.where(OutboxAction.kind == sel.kind)
    if sel.customer:
        stmt = stmt.where(_customer_filter(session, sel.customer))
    stmt = stmt.order_by(Org.name, OutboxAction.customer_provider_id, OutboxAction.id)
    return [
        Pending(row, org, name, _invoices(row.payload)) for row, org, name in session.execute(stmt)
    ]


def _addressless(session: Session, chosen: list[Pending]) -> set[int]:
    """Those held for a missing or unusable email address whose customer still has no usable
    one: approving them would only make them fail at send time."""
    held = [p.row for p in chosen if p.row.hold_kind == HoldKind.ADDRESS.value]
    by_org: dict[int, set[str]] = {}
    for row in held:
        by_org.setdefault(row.org_id, set()).add(row.customer_provider_id or "")
    still = {
        (org_id, customer)
        for org_id, customers in by_org.items()
        for customer in unaddressed_customers(session, org_id, customers)
    }
    return {r.id for r in held if (r.org_id, r.customer_provider_id or "") in still}


def _decide(
    session: Session,
    selection: Selection,
    *,
    now: datetime,
    by: str,
    status: OutboxStatus,
    event: str,
    reason: str | None,
) -> list[OutboxAction]:
    selection.check()
    chosen = pending(session, selection)
    if selection.ids:
        missing = set(selection.ids) - {p.row.id for p in chosen}
        if missing:
            listed = ", ".join(str(i) for i in sorted(missing))
            raise ReviewError(f"not awaiting review (or not in that org): {listed}")
    waiting = _addressless(session, chosen) if status is OutboxStatus.PENDING else set()
    if waiting and selection.ids:
        listed = ", ".join(str(i) for i in sorted(waiting))
        raise ReviewError(
            f"the customer still has no usable email address: {listed} (add or correct it "
            "at the provider and sync: the email is released by itself; or skip it)"
        )
    chosen = [p for p in chosen if p.row.id not in waiting]
    if not chosen:
        more = f" ({len(waiting)} wait for a usable email address)" if waiting else ""
        raise ReviewError(f"no action awaiting review matches{more}")
    rows = []
    for p in chosen:
        row = session.get(OutboxAction, p.row.id, with_for_update=True)
        if row is None or row.status != OutboxStatus.AWAITING_REVIEW.value:
            continue  # decided by someone else meanwhile
        row.status, row.updated_at = status.value, now
        row.reviewed_by, row.reviewed_at = by, now
        row.next_attempt_at = None
        if reason is not None:
            row.last_error = f"skipped at review: {reason}"
            row.result = {"review": "skipped", "reason": reason}
        record(
            session,
            at=now,
            event=event,
            actor=by,
            org_id=row.org_id,
            subject_type="action",
            subject_id=row.idempotency_key,
            status=status.value,
            reason=reason,
        )
        rows.append(row)
    return rows


def approve(
    session: Session, selection: Selection, *, now: datetime, by: str
) -> Sequence[OutboxAction]:
    """Approved actions become pending: the next executor pass runs them."""
    return _decide(
        session,
        selection,
        now=now,
        by=by,
        status=OutboxStatus.PENDING,
        event="action.approved",
        reason=None,
    )


def skip(
    session: Session, selection: Selection, *, now: datetime, by: str, reason: str
) -> Sequence[OutboxAction]:
    """Skipped actions are closed for good (never run, never planned again)."""
    if not reason.strip():
        raise ReviewError("--reason must say why")
    return _decide(
        session,
        selection,
        now=now,
        by=by,
        status=OutboxStatus.SKIPPED,
        event="action.review_skipped",
        reason=reason.strip(),
    )
