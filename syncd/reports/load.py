"""Reading what the reports need from the store (the only report module that queries it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..store.models import Customer, Invoice, OutboxAction, Payment
from ..store.queries import round_money
from .effectiveness import DoneAction
from .ledger import FeeLine, LedgerInvoice, Movement

#: Invoices that were never owed (drafts) or no longer are, since a date the store does
#: not know (voided, deleted): left out of every report.
COUNTED = ("open", "paid")


def _split(amount: Decimal, cash: Decimal, applied: Decimal, currency: str) -> list[Movement]:
    """A payment's allocation as cash and consumed credit (placeholders for the date).

    A QuickBooks payment can apply a credit memo: its lines then link the invoice for more
    than the money received (``TotalAmt``). The balance falls by the whole allocation, but
    only the cash share, pro rata, is money collected."""
    if applied <= cash or applied <= 0:
        return [Movement(date.min, amount, "payment")]
    money = round_money(amount * cash / applied, currency)
    out = [Movement(date.min, money, "payment")]
    if amount - money:
        out.append(Movement(date.min, amount - money, "credit_note"))
    return out


def _movements(session: Session, org_id: int, tz: ZoneInfo) -> dict[str, list[Movement]]:
    out: dict[str, list[Movement]] = defaultdict(list)
    payments = session.scalars(
        select(Payment)
        .where(Payment.org_id == org_id, Payment.date.is_not(None))
        .options(selectinload(Payment.allocations))
    )
    for pay in payments:
        assert pay.date is not None
        cur = pay.currency
        applied = sum((round_money(a.amount, cur) for a in pay.allocations), Decimal(0))
        cash = round_money(pay.amount - pay.unapplied, cur)
        for alloc in pay.allocations:
            amount = round_money(alloc.amount, cur)
            parts = (
                _split(amount, cash, applied, cur)
                if pay.kind == "payment"
                else [Movement(date.min, amount, pay.kind)]
            )
            for part in parts:
                out[alloc.invoice_provider_id].append(Movement(pay.date, part.amount, part.kind))
                if pay.deleted:
                    # Deleted or refunded at the provider: owed again from the day syncd saw
                    # it (the same rule as the dunning engine's history).
                    seen = max(pay.provider_updated_at.astimezone(tz).date(), pay.date)
                    out[alloc.invoice_provider_id].append(Movement(seen, -part.amount, part.kind))
    return out


def _fee_days(session: Session, org_id: int, tz: ZoneInfo) -> dict[str, date]:
    """When each fee line syncd posted was added: its action's completion day."""
    rows = session.execute(
        select(OutboxAction.idempotency_key, OutboxAction.updated_at).where(
            OutboxAction.org_id == org_id,
            OutboxAction.kind.in_(("late_fee", "interest", "compensation")),
            OutboxAction.status == "done",
        )
    )
    return {key: at.astimezone(tz).date() for key, at in rows}


def load_ledger(session: Session, org_id: int, org: str, tz: ZoneInfo) -> list[LedgerInvoice]:
    names = dict(
        session.execute(
            select(Customer.provider_id, Customer.name).where(Customer.org_id == org_id)
        ).all()
    )
    movements = _movements(session, org_id, tz)
    fee_days = _fee_days(session, org_id, tz)
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.org_id == org_id, Invoice.status.in_(COUNTED))
        .options(selectinload(Invoice.lines))
        .order_by(Invoice.provider_id)
    )
    out: list[LedgerInvoice] = []
    for inv in invoices:
        issued = inv.issue_date or inv.due_date or inv.provider_updated_at.astimezone(tz).date()
        fees = tuple(
            FeeLine(fee_days.get(ln.fee_key, issued), round_money(ln.amount, inv.currency))
            for ln in inv.lines
            if ln.fee_key
        )
        out.append(
            LedgerInvoice(
                org=org,
                invoice_id=inv.provider_id,
                number=inv.number or inv.provider_id,
                customer_id=inv.customer_provider_id,
                customer_name=names.get(inv.customer_provider_id, inv.customer_provider_id),
                currency=inv.currency,
                issue_date=issued,
                due_date=inv.due_date or issued,
                total=round_money(inv.total, inv.currency),
                balance=round_money(inv.balance, inv.currency),
                movements=tuple(sorted(movements.get(inv.provider_id, []), key=lambda m: m.on)),
                fees=fees,
            )
        )
    return out


def _items(payload: dict[str, Any]) -> tuple[tuple[str, str | None], ...]:
    items = payload.get("invoices") or []
    if items:
        return tuple((str(i["provider_id"]), i.get("step")) for i in items)
    invoice = payload.get("invoice")
    if invoice:
        return ((str(invoice["provider_id"]), payload.get("step")),)
    return ()


def load_actions(session: Session, org_id: int, org: str, tz: ZoneInfo) -> list[DoneAction]:
    """Actions carried out (``done``) or skipped by a reviewer, on the day they ended."""
    out: list[DoneAction] = []
    rows = session.scalars(
        select(OutboxAction)
        .where(OutboxAction.org_id == org_id, OutboxAction.status.in_(("done", "skipped")))
        .order_by(OutboxAction.id)
    )
    for row in rows:
        p = row.payload
        amount = p.get("amount")
        out.append(
            DoneAction(
                org=org,
                kind=row.kind,
                status=row.status,
                on=row.updated_at.astimezone(tz).date(),
                policy=p.get("policy"),
                items=_items(p),
                amount=None if amount is None else Decimal(str(amount)),
                currency=p.get("currency"),
                seq=row.id,
            )
        )
    return out
