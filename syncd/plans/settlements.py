"""Agreeing and cancelling settlements (``syncd settle``): a reduced amount accepted for one
invoice if paid by a date. While the offer stands the invoice's ordinary dunning is held;
:mod:`.follow` closes it (a credit note for the rest, through the outbox) or lets it lapse."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies.money import minor_unit

from ..store.audit import record
from ..store.models import Settlement
from ..store.queries import money_text
from .common import (
    LadderError,
    find_invoice,
    held_by_agreement,
    hold_actor,
    place_hold,
)
from .ending import cancel_agreement, get_agreement


def _amount(text: str, currency: str) -> Decimal:
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise LadderError(f"--amount expects an amount such as 750.00, not {text!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise LadderError(f"--amount must be a positive amount, not {text!r}")
    if amount != amount.quantize(minor_unit(currency)):
        raise LadderError(f"--amount {text} is not an amount in whole {currency} minor units")
    return amount


def create_settlement(
    session: Session,
    org_id: int,
    *,
    invoice_ref: str,
    amount: str,
    pay_by: date,
    note: str | None,
    today: date,
    actor: str,
    now: datetime,
) -> Settlement:
    inv = find_invoice(session, org_id, invoice_ref)
    label = inv.number or inv.provider_id
    if inv.status != "open" or inv.balance <= 0:
        raise LadderError(f"invoice {label} is {inv.status} with nothing left to settle")
    agreed = _amount(amount, inv.currency)
    if agreed > inv.balance:
        raise LadderError(
            f"the settlement {money_text(agreed, inv.currency)} is above the invoice's "
            f"balance {money_text(inv.balance, inv.currency)}"
        )
    if agreed == inv.balance:
        raise LadderError(
            f"the settlement equals the balance {money_text(inv.balance, inv.currency)}: "
            "nothing to "
            "write off (use a pause for a promise to pay)"
        )
    if pay_by < today:
        raise LadderError(f"--pay-by {pay_by.isoformat()} is in the past")
    holder = held_by_agreement(session, org_id, inv.provider_id)
    if holder:
        raise LadderError(f"invoice {label} is already under {holder.removeprefix('syncd:')}")
    settlement = Settlement(
        org_id=org_id,
        invoice_provider_id=inv.provider_id,
        customer_provider_id=inv.customer_provider_id,
        currency=inv.currency,
        balance=inv.balance,
        agreed_amount=agreed,
        pay_by=pay_by,
        note=note,
        status="pending",
        created_at=now,
        actor=actor,
    )
    session.add(settlement)
    session.flush()
    place_hold(
        session,
        org_id,
        inv,
        hold_actor("settlement", settlement.id),
        f"settlement {settlement.id}: {agreed} {inv.currency} by {pay_by.isoformat()}",
        now,
    )
    record(
        session,
        at=now,
        event="settlement.created",
        actor=actor,
        org_id=org_id,
        subject_type="invoice",
        subject_id=inv.provider_id,
        settlement_id=settlement.id,
        balance=inv.balance,
        agreed=agreed,
        currency=inv.currency,
        pay_by=pay_by,
        note=note,
    )
    return settlement


def get_settlement(session: Session, org_id: int, ident: int) -> Settlement:
    return get_agreement(session, Settlement, org_id, ident)


def cancel_settlement(
    session: Session, org_id: int, ident: int, *, reason: str | None, actor: str, now: datetime
) -> Settlement:
    return cancel_agreement(session, Settlement, org_id, ident, reason=reason, actor=actor, now=now)


def list_settlements(session: Session, org_id: int) -> list[Settlement]:
    return list(
        session.scalars(
            select(Settlement).where(Settlement.org_id == org_id).order_by(Settlement.id)
        )
    )
