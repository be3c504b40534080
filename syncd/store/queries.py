"""Read-only views of the store for the CLI and reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.numbers import get_currency_precision
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from connectors.base import InvoiceStatus

from .models import Customer, Invoice, Org


@cache
def _minor_unit(currency: str) -> Decimal:
    """Looked up once per currency: planning rounds two amounts of every open invoice."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (2 for USD, 0 for JPY, 3 for KWD)."""
    return amount.quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)


def money_text(amount: Decimal, currency: str, *, grouped: bool = False) -> str:
    """An amount as a note, a document or a message shows it: "2297.44 USD".

    Stored amounts carry six decimal places; written out as they came from the store, a
    note on the customer's invoice read "agreed for 2297.440000 USD". ``grouped`` adds
    thousands separators ("2,297.44 USD"), for documents a person reads.
    """
    rounded = round_money(amount, currency)
    return f"{rounded:,} {currency}" if grouped else f"{rounded} {currency}"


@dataclass(frozen=True)
class InvoiceView:
    org: str
    provider_id: str
    number: str | None
    customer_id: str
    customer_name: str | None
    customer_email: str | None
    issue_date: date | None
    due_date: date | None
    currency: str
    total: Decimal
    balance: Decimal
    status: str
    updated_at: datetime

    def as_json(self) -> dict[str, str | None]:
        return {
            "org": self.org,
            "provider_id": self.provider_id,
            "number": self.number,
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "customer_email": self.customer_email,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "total": str(round_money(self.total, self.currency)),
            "balance": str(round_money(self.balance, self.currency)),
            "status": self.status,
            "updated_at": self.updated_at.isoformat(),
        }


def invoices(
    session: Session, *, org: str | None = None, open_only: bool = False
) -> Iterator[InvoiceView]:
    stmt = (
        select(Invoice, Org.name, Customer.name, Customer.email)
        .join(Org, Org.id == Invoice.org_id)
        .outerjoin(
            Customer,
            and_(
                Customer.org_id == Invoice.org_id,
                Customer.provider_id == Invoice.customer_provider_id,
            ),
        )
        .order_by(Org.name, Invoice.due_date, Invoice.provider_id)
    )
    if org is not None:
        stmt = stmt.where(Org.name == org)
    if open_only:
        stmt = stmt.where(Invoice.status == InvoiceStatus.OPEN.value, Invoice.balance > 0)
    for inv, org_name, cust_name, cust_email in session.execute(stmt).yield_per(1000):
        yield InvoiceView(
            org=org_name,
            provider_id=inv.provider_id,
            number=inv.number,
            customer_id=inv.customer_provider_id,
            customer_name=cust_name,
            customer_email=cust_email,
            issue_date=inv.issue_date,
            due_date=inv.due_date,
            currency=inv.currency,
            total=inv.total,
            balance=inv.balance,
            status=inv.status,
            updated_at=inv.provider_updated_at,
        )


def customer_names(
    session: Session, org_ids: list[int] | None = None
) -> dict[tuple[int, str], str]:
    """``(org id, customer provider id) -> name``: tables name customers, not their ids."""
    stmt = select(Customer.org_id, Customer.provider_id, Customer.name)
    if org_ids is not None:
        stmt = stmt.where(Customer.org_id.in_(org_ids))
    return {(o, p): n for o, p, n in session.execute(stmt)}
