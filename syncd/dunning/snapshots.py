"""Building the policy engine's immutable inputs from store rows.

Holds (pauses, disputes) live in one place, the ``holds`` table, and are handed to the engine
on every plan: invoice holds through the invoice's state, customer holds through the customer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Text, and_, cast, or_, select
from sqlalchemy.orm import Session

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
    InvoiceLine,
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


def candidate_filter(due_on: date, fingerprint: str) -> ColumnElement[bool]:
    """Open invoices a cycle on ``due_on`` must look at, as far as their own rows tell: never
    planned, due for their next action, changed since last planned (payment, edit), or
    planned under other policies. Holds placed or released since are found from the holds
    side (:func:`_hold_changed`). Everything else provably has nothing to do, so planning
    cost follows the number of due actions, not the number of open invoices."""
    state = DunningStateRow
    return or_(
        state.invoice_id.is_(None),
        state.next_action_on <= due_on,
        Invoice.synced_at > state.updated_at,
        state.plan_fingerprint.is_(None),
        state.plan_fingerprint != fingerprint,
    )


def _hold_changed(org_id: int, scope: str) -> Select[str]:
    """Customers with an open invoice whose hold (of ``scope``) was placed or released after
    the invoice was last planned. Driven by the holds, which are few: a correlated EXISTS
    per open invoice made the candidate scan cost as much as the rest of planning."""
    subject = Invoice.provider_id if scope == "invoice" else Invoice.customer_provider_id
    state = DunningStateRow
    return (
        select(Invoice.customer_provider_id)
        .join(HoldRow, and_(HoldRow.org_id == Invoice.org_id, HoldRow.provider_id == subject))
        .join(state, state.invoice_id == Invoice.id)
        .where(
            HoldRow.org_id == org_id,
            HoldRow.scope == scope,
            Invoice.status == "open",
            Invoice.balance > 0,
            or_(HoldRow.created_at > state.updated_at, HoldRow.released_at > state.updated_at),
        )
    )


def candidate_customers(session: Session, org_id: int, due_on: date, fingerprint: str) -> list[str]:
    """Customers with at least one candidate invoice, in plain queries rather than one
    IN (subquery): without fresh statistics (right after a big backfill) PostgreSQL may
    re-run such a subquery for every row."""
    scan = (
        select(Invoice.customer_provider_id)
        .outerjoin(DunningStateRow, DunningStateRow.invoice_id == Invoice.id)
        .where(
            Invoice.org_id == org_id,
            Invoice.status == "open",
            Invoice.balance > 0,
            candidate_filter(due_on, fingerprint),
        )
    )
    found: set[str] = set(session.scalars(scan.distinct()))
    for scope in ("invoice", "customer"):
        found.update(session.scalars(_hold_changed(org_id, scope).distinct()))
    return sorted(found)


class CustomerFacts(Protocol):
    """What planning reads of a customer: an ORM row or only the columns selected for it."""

    @property
    def name(self) -> str: ...
    @property
    def groups(self) -> list[str] | None: ...
    @property
    def is_business(self) -> bool | None: ...
    @property
    def country(self) -> str | None: ...


class _CustomerRow(NamedTuple):
    name: str
    groups: list[str] | None
    is_business: bool | None
    country: str | None


def is_business(cust: CustomerFacts, business_groups: Sequence[str]) -> bool | None:
    """A customer in one of the org's ``business_groups`` is a business (the owner's own
    marking beats the provider's guess); otherwise the provider's flag, None if it has none
    (the policy then decides)."""
    wanted = {g.casefold() for g in business_groups}
    if wanted and any(g.casefold() in wanted for g in cust.groups or ()):
        return True
    return cust.is_business


def customer_snapshot(
    customer_id: str,
    cust: CustomerFacts | None,
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


#: The invoice columns planning reads; loading ORM entities (with ``raw``) cost more than
#: planning itself on a large org.
_INVOICE_COLUMNS = (
    Invoice.id,
    Invoice.provider_id,
    Invoice.number,
    Invoice.customer_provider_id,
    Invoice.currency,
    Invoice.issue_date,
    Invoice.due_date,
    Invoice.provider_updated_at,
    Invoice.total,
    Invoice.balance,
    Invoice.status,
    # As stored, not decoded: equal states (most, on a large org) are decoded once.
    cast(DunningStateRow.state, Text),
)


class _InvoiceRow(NamedTuple):
    id: int
    provider_id: str
    number: str | None
    customer_provider_id: str
    currency: str
    issue_date: date | None
    due_date: date | None
    provider_updated_at: datetime
    total: Decimal
    balance: Decimal
    status: str
    #: The engine's serialised state as JSON text, None before the invoice was first planned.
    state: str | None


def _invoices(
    session: Session, org_id: int, *, open_only: bool, customers: list[str] | None
) -> list[_InvoiceRow]:
    """The org's invoices (of ``customers`` only, unless None), by due date then id."""
    stmt = (
        select(*_INVOICE_COLUMNS)
        .outerjoin(DunningStateRow, DunningStateRow.invoice_id == Invoice.id)
        .where(Invoice.org_id == org_id)
    )
    if open_only or customers is not None:
        stmt = stmt.where(Invoice.status == "open", Invoice.balance > 0)
    if customers is None:
        # The database orders (its NULL placement included), as it always has here.
        ordered = stmt.order_by(Invoice.due_date, Invoice.provider_id)
        return [_InvoiceRow._make(row) for row in session.execute(ordered)]
    rows = [
        _InvoiceRow._make(row)
        for chunk in _chunks(customers)
        for row in session.execute(stmt.where(Invoice.customer_provider_id.in_(chunk)))
    ]
    rows.sort(key=lambda inv: (inv.due_date or date.min, inv.provider_id))
    return rows


def _fees(session: Session, ids: list[int]) -> dict[int, Decimal]:
    """Fees syncd posted as lines, per invoice: the engine works on principal."""
    fees: dict[int, Decimal] = {}
    for chunk in _chunks(ids):
        lines = session.execute(
            select(InvoiceLine.invoice_id, InvoiceLine.amount, InvoiceLine.fee_key).where(
                InvoiceLine.invoice_id.in_(chunk), InvoiceLine.fee_key.is_not(None)
            )
        )
        for invoice_id, amount, fee_key in lines:
            if fee_key:
                fees[invoice_id] = fees.get(invoice_id, Decimal(0)) + amount
    return fees


def _customers(session: Session, org_id: int, ids: list[str]) -> dict[str, _CustomerRow]:
    cols = (Customer.name, Customer.groups, Customer.is_business, Customer.country)
    return {
        row[0]: _CustomerRow(*row[1:])
        for chunk in _chunks(ids)
        for row in session.execute(
            select(Customer.provider_id, *cols).where(
                Customer.org_id == org_id, Customer.provider_id.in_(chunk)
            )
        )
    }


def _holds(session: Session, org_id: int, tz: ZoneInfo) -> dict[tuple[str, str], list[Hold]]:
    holds: dict[tuple[str, str], list[Hold]] = defaultdict(list)
    for hold in session.scalars(select(HoldRow).where(HoldRow.org_id == org_id)):
        holds[(hold.scope, hold.provider_id)].append(to_policy_hold(hold, tz))
    return holds


def _history(
    session: Session, org_id: int, provider_ids: list[str], tz: ZoneInfo
) -> dict[str, list[PolicyPayment]]:
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
    return history


def _snapshot(inv: _InvoiceRow, fees: Decimal, payments: list[PolicyPayment]) -> InvoiceSnapshot:
    return InvoiceSnapshot(
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
        payments=tuple(sorted(payments, key=lambda p: p.on)),
    )


class _States:
    """``DunningState`` from its stored JSON, each distinct text decoded once: states are
    immutable, so invoices with the same state (not yet dunned, same due date) share one."""

    def __init__(self) -> None:
        self._seen: dict[str, DunningState] = {}

    def get(self, text: str | None) -> DunningState:
        if text is None:
            return DunningState()
        state = self._seen.get(text)
        if state is None:
            data = json.loads(text)
            state = self._seen[text] = (
                DunningState() if data is None else DunningState.from_dict(data)
            )
        return state


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

    With ``due_on``, only the cycle's candidates (see :func:`candidate_customers`) and the
    other open invoices of their customers (a grouped email lists every overdue invoice);
    without it, every invoice (only open ones unless ``open_only`` is off).
    """
    customers_due = (
        None if due_on is None else candidate_customers(session, org_id, due_on, fingerprint)
    )
    invoices = _invoices(session, org_id, open_only=open_only, customers=customers_due)
    ids = [inv.id for inv in invoices]
    customers = _customers(session, org_id, sorted({i.customer_provider_id for i in invoices}))
    fees = _fees(session, ids)
    holds = _holds(session, org_id, tz)
    history = _history(session, org_id, [inv.provider_id for inv in invoices], tz)

    inputs: list[DunningInput] = []
    no_payments: list[PolicyPayment] = []
    by_customer: dict[str, CustomerSnapshot] = {}
    states = _States()
    for inv in invoices:
        snapshot = _snapshot(
            inv, fees.get(inv.id, Decimal(0)), history.get(inv.provider_id, no_payments)
        )
        customer = by_customer.get(inv.customer_provider_id)
        if customer is None:  # one immutable snapshot per customer, shared by its invoices
            customer = by_customer[inv.customer_provider_id] = customer_snapshot(
                inv.customer_provider_id,
                customers.get(inv.customer_provider_id),
                tuple(holds.get(("customer", inv.customer_provider_id), ())),
                business_groups,
            )
        state = states.get(inv.state)
        invoice_holds = tuple(holds.get(("invoice", inv.provider_id), ()))
        if invoice_holds != state.holds:  # ``replace`` is costly; most states hold nothing
            state = replace(state, holds=invoice_holds)
        inputs.append(DunningInput(invoice=snapshot, customer=customer, state=state))
    return inputs
