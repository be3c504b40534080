"""Building the policy engine's immutable inputs from store rows.

Holds (pauses, disputes) live in one place, the ``holds`` table, and are handed to the engine
on every plan: invoice holds through the invoice's state, customer holds through the customer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
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


def _local(ts: datetime, tz: ZoneInfo) -> date:
    return ts.astimezone(tz).date()


def to_policy_hold(row: HoldRow, tz: ZoneInfo) -> Hold:
    until = row.until
    if row.released_at is not None:
        released = _local(row.released_at, tz)
        until = released if until is None else min(until, released)
    return Hold(
        kind=HoldKind(row.kind),
        start=_local(row.created_at, tz),
        until=until,
        by=row.actor,
        reason=row.reason or "",
    )


def _fees_on(invoice: Invoice) -> Decimal:
    return sum((ln.amount for ln in invoice.lines if ln.fee_key), Decimal(0))


def load_inputs(
    session: Session, org_id: int, tz: ZoneInfo, *, open_only: bool = True
) -> list[DunningInput]:
    """Every invoice of the org (only open ones unless ``open_only`` is off) with its
    customer, payment history, holds and persisted dunning state."""
    stmt = select(Invoice).where(Invoice.org_id == org_id)
    if open_only:
        stmt = stmt.where(Invoice.status == "open", Invoice.balance > 0)
    invoices = list(session.scalars(stmt.order_by(Invoice.due_date, Invoice.provider_id)))
    ids = [inv.id for inv in invoices]
    provider_ids = {inv.provider_id for inv in invoices}

    customers = {
        c.provider_id: c for c in session.scalars(select(Customer).where(Customer.org_id == org_id))
    }
    states = (
        {
            row.invoice_id: row
            for row in session.scalars(
                select(DunningStateRow).where(DunningStateRow.invoice_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    holds: dict[tuple[str, str], list[Hold]] = defaultdict(list)
    for hold in session.scalars(select(HoldRow).where(HoldRow.org_id == org_id)):
        holds[(hold.scope, hold.provider_id)].append(to_policy_hold(hold, tz))
    history: dict[str, list[PolicyPayment]] = defaultdict(list)
    allocations = session.execute(
        select(PaymentAllocation.invoice_provider_id, PaymentAllocation.amount, Payment.date)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.org_id == org_id, ~Payment.deleted)
    )
    for invoice_id, amount, paid_on in allocations:
        if invoice_id in provider_ids and paid_on is not None:
            history[invoice_id].append(PolicyPayment(on=paid_on, amount=amount.normalize()))

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
        cust = customers.get(inv.customer_provider_id)
        customer = CustomerSnapshot(
            customer_id=inv.customer_provider_id,
            name=cust.name if cust else "",
            holds=tuple(holds.get(("customer", inv.customer_provider_id), [])),
        )
        row = states.get(inv.id)
        state = DunningState.from_dict(row.state) if row is not None else DunningState()
        state = replace(state, holds=tuple(holds.get(("invoice", inv.provider_id), [])))
        inputs.append(DunningInput(invoice=snapshot, customer=customer, state=state))
    return inputs
