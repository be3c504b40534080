"""Building the policy engine's immutable inputs from store rows.

Holds (pauses, disputes) live in one place, the ``holds`` table, and are handed to the engine
on every plan: invoice holds through the invoice's state, customer holds through the customer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from policies import (
    CustomerSnapshot,
    DunningInput,
    DunningState,
    Hold,
    HoldKind,
    InvoiceSnapshot,
)
from policies import (
    InvoiceStatus as PolicyStatus,
)
from policies import (
    Payment as PolicyPayment,
)

from ..store.models import (
    Customer,
    Invoice,
    Payment,
    PaymentAllocation,
)
from ..store.models import (
    DunningState as DunningStateRow,
)
from ..store.models import (
    Hold as HoldRow,
)
from ..store.queries import round_money

_STATUS = {s.value: s for s in PolicyStatus}
_T = TypeVar("_T")


def _local(ts: datetime, tz: ZoneInfo) -> date:
    return ts.astimezone(tz).date()


def to_policy_hold(row: HoldRow, tz: ZoneInfo) -> Hold:
    until = row.until
    if row.released_at is not None:
        released = _local(row.released_at, tz)
        until = released if until is None else min(until, released)
    return Hold(
        # A hand-off to an agency stops everything, as a dispute does (``syncd handoff``).
        kind=HoldKind.DISPUTE if row.kind == "handoff" else HoldKind(row.kind),
        start=_local(row.created_at, tz),
        until=until,
        by=row.actor,
        reason=row.reason or "",
    )


def _chunks(values: Sequence[_T], size: int = 5000) -> Iterator[Sequence[_T]]:
    """SQLite caps bound parameters per statement; large IN lists go in pieces."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fees_on(invoice: Invoice) -> Decimal:
    return sum((ln.amount for ln in invoice.lines if ln.fee_key), Decimal(0))


def candidate_filter(org_id: int, due_on: date, fingerprint: str) -> ColumnElement[bool]:
    """Open invoices a cycle on ``due_on`` must look at: never planned, due for their next
    action, changed since last planned (payment, edit, hold placed or released), or planned
    under other policies. Everything else provably has nothing to do, so planning cost
    follows the number of due actions, not the number of open invoices."""
    state = DunningStateRow
    hold_changed = exists().where(
        HoldRow.org_id == org_id,
        or_(
            and_(HoldRow.scope == "invoice", HoldRow.provider_id == Invoice.provider_id),
            and_(
                HoldRow.scope == "customer",
                HoldRow.provider_id == Invoice.customer_provider_id,
            ),
        ),
        or_(HoldRow.created_at > state.updated_at, HoldRow.released_at > state.updated_at),
    )
    return or_(
        state.invoice_id.is_(None),
        state.next_action_on <= due_on,
        Invoice.synced_at > state.updated_at,
        state.plan_fingerprint.is_(None),
        state.plan_fingerprint != fingerprint,
        hold_changed,
    )


def is_business(cust: Customer, business_groups: Sequence[str]) -> bool | None:
    """A customer in one of the org's ``business_groups`` is a business (the owner's own
    marking beats the provider's guess); otherwise the provider's flag, None if it has none
    (the policy then decides)."""
    wanted = {g.casefold() for g in business_groups}
    if wanted and any(g.casefold() in wanted for g in cust.groups or ()):
        return True
    return cust.is_business


def customer_snapshot(
    customer_id: str,
    cust: Customer | None,
    holds: tuple[Hold, ...],
    business_groups: Sequence[str] = (),
) -> CustomerSnapshot:
    """The engine's view of a customer: provider groups feed policy rules as they are named."""
    if cust is None:
        return CustomerSnapshot(customer_id=customer_id, holds=holds)
    return CustomerSnapshot(
        customer_id=customer_id,
        name=cust.name,
        groups=frozenset(cust.groups or ()),
        holds=holds,
        is_business=is_business(cust, business_groups),
        country=cust.country,
    )


def load_inputs(
    session: Session,
    org_id: int,
    tz: ZoneInfo,
    *,
    open_only: bool = True,
    due_on: date | None = None,
    fingerprint: str = "",
    business_groups: Sequence[str] = (),
) -> list[DunningInput]:
    """Invoices of the org with their customer, payment history, holds and dunning state.

    With ``due_on``, only the cycle's candidates (see :func:`candidate_filter`) and the other
    open invoices of their customers (a grouped email lists every overdue invoice); without
    it, every invoice (only open ones unless ``open_only`` is off).
    """
    stmt = (
        select(Invoice)
        .where(Invoice.org_id == org_id)
        .options(selectinload(Invoice.lines))
        .order_by(Invoice.due_date, Invoice.provider_id)
    )
    if open_only or due_on is not None:
        stmt = stmt.where(Invoice.status == "open", Invoice.balance > 0)
    if due_on is None:
        invoices = list(session.scalars(stmt))
    else:
        # Two plain steps rather than one IN (subquery): without fresh statistics (right after
        # a big backfill) PostgreSQL may re-run such a subquery for every row.
        customers_due = sorted(
            set(
                session.scalars(
                    select(Invoice.customer_provider_id)
                    .outerjoin(DunningStateRow, DunningStateRow.invoice_id == Invoice.id)
                    .where(
                        Invoice.org_id == org_id,
                        Invoice.status == "open",
                        Invoice.balance > 0,
                        candidate_filter(org_id, due_on, fingerprint),
                    )
                )
            )
        )
        invoices = [
            inv
            for chunk in _chunks(customers_due)
            for inv in session.scalars(stmt.where(Invoice.customer_provider_id.in_(chunk)))
        ]
        invoices.sort(key=lambda inv: (inv.due_date or date.min, inv.provider_id))
    ids = [inv.id for inv in invoices]
    provider_ids = [inv.provider_id for inv in invoices]
    customer_ids = sorted({inv.customer_provider_id for inv in invoices})

    customers = {
        c.provider_id: c
        for chunk in _chunks(customer_ids)
        for c in session.scalars(
            select(Customer).where(Customer.org_id == org_id, Customer.provider_id.in_(chunk))
        )
    }
    states = {
        row.invoice_id: row
        for chunk in _chunks(ids)
        for row in session.scalars(
            select(DunningStateRow).where(DunningStateRow.invoice_id.in_(chunk))
        )
    }
    holds: dict[tuple[str, str], list[Hold]] = defaultdict(list)
    for hold in session.scalars(select(HoldRow).where(HoldRow.org_id == org_id)):
        holds[(hold.scope, hold.provider_id)].append(to_policy_hold(hold, tz))
    history: dict[str, list[PolicyPayment]] = defaultdict(list)
    for chunk in _chunks(provider_ids):
        allocations = session.execute(
            select(
                PaymentAllocation.invoice_provider_id,
                PaymentAllocation.amount,
                Payment.date,
                Payment.deleted,
                Payment.provider_updated_at,
            )
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(Payment.org_id == org_id, PaymentAllocation.invoice_provider_id.in_(chunk))
        )
        for invoice_id, amount, paid_on, deleted, changed_at in allocations:
            if paid_on is None:
                continue
            history[invoice_id].append(PolicyPayment(on=paid_on, amount=amount.normalize()))
            if deleted:
                # A payment deleted (or refunded) at the provider: the invoice was paid, then
                # reopened on the day the deletion was seen. Both facts stay in the history,
                # so no fee period is charged for the days its balance was zero.
                reopened = max(changed_at.astimezone(tz).date(), paid_on)
                history[invoice_id].append(PolicyPayment(on=reopened, amount=-amount.normalize()))

    inputs: list[DunningInput] = []
    for inv in invoices:
        fees = _fees_on(inv)
        snapshot = InvoiceSnapshot(
            invoice_id=inv.provider_id,
            number=inv.number or inv.provider_id,
            customer_id=inv.customer_provider_id,
            currency=inv.currency,
            issue_date=inv.issue_date or inv.due_date or inv.provider_updated_at.date(),
            due_date=inv.due_date or inv.issue_date or inv.provider_updated_at.date(),
            # The engine works on principal: fees syncd posted as lines are taken out.
            total=round_money(inv.total - fees, inv.currency),
            balance=round_money(max(Decimal(0), inv.balance - fees), inv.currency),
            status=_STATUS.get(inv.status, PolicyStatus.OPEN),
            payments=tuple(sorted(history.get(inv.provider_id, []), key=lambda p: p.on)),
        )
        customer = customer_snapshot(
            inv.customer_provider_id,
            customers.get(inv.customer_provider_id),
            tuple(holds.get(("customer", inv.customer_provider_id), [])),
            business_groups,
        )
        row = states.get(inv.id)
        state = DunningState.from_dict(row.state) if row is not None else DunningState()
        state = replace(state, holds=tuple(holds.get(("invoice", inv.provider_id), [])))
        inputs.append(DunningInput(invoice=snapshot, customer=customer, state=state))
    return inputs
