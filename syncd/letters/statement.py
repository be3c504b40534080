"""A customer's statement of account as a letter or a case file shows it, read from the store.

Charges syncd added to an invoice (late fees, statutory interest, fixed compensation) are
lines of that invoice at the provider; a demand letter lists them apart from the amount
first invoiced, so each invoice shows ``amount`` (as first invoiced) + its charges - ``paid``
= ``balance``, and the totals add up the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import CompanyInfo

from ..company import stored_company
from ..outbox.writes import FEE_LABELS
from ..store.models import Customer, Invoice, Payment, PaymentAllocation
from ..store.queries import round_money

#: Charge kinds in the order a letter lists them.
CHARGE_KINDS = ("late_fee", "interest", "compensation")


class StatementError(ValueError):
    """Nothing to put in a statement (unknown customer, nothing overdue): a user's mistake."""


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Charge:
    kind: str
    label: str
    invoice_number: str
    description: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class StatementInvoice:
    provider_id: str
    number: str
    issue_date: date | None
    due_date: date | None
    amount: Decimal
    charges: Decimal
    paid: Decimal
    balance: Decimal
    days_overdue: int
    pay_url: str | None


@dataclass(frozen=True, slots=True)
class StatementPayment:
    provider_id: str
    kind: str
    date: date | None
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    business: Party
    customer: Party
    customer_id: str
    is_business: bool | None
    currency: str
    as_of: date
    invoices: tuple[StatementInvoice, ...]
    charges: tuple[Charge, ...]
    payments: tuple[StatementPayment, ...] = field(default=())

    def _sum(self, values: Any) -> Decimal:
        return round_money(sum(values, Decimal(0)), self.currency)

    @property
    def amount(self) -> Decimal:
        return self._sum(i.amount for i in self.invoices)

    @property
    def paid(self) -> Decimal:
        return self._sum(i.paid for i in self.invoices)

    @property
    def total(self) -> Decimal:
        return self._sum(i.balance for i in self.invoices)

    def charges_of(self, kind: str) -> Decimal:
        return self._sum(c.amount for c in self.charges if c.kind == kind)

    @property
    def charges_total(self) -> Decimal:
        return self._sum(c.amount for c in self.charges)

    def to_dict(self) -> dict[str, Any]:
        """Figures as strings (JSON columns, ``--json``, the case file)."""
        return {
            "customer": self.customer_id,
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "invoices": [
                {
                    "provider_id": i.provider_id,
                    "number": i.number,
                    "issue_date": i.issue_date.isoformat() if i.issue_date else None,
                    "due_date": i.due_date.isoformat() if i.due_date else None,
                    "amount": str(i.amount),
                    "charges": str(i.charges),
                    "paid": str(i.paid),
                    "balance": str(i.balance),
                }
                for i in self.invoices
            ],
            "charges": [
                {"kind": c.kind, "invoice": c.invoice_number, "amount": str(c.amount)}
                for c in self.charges
            ],
            "amount": str(self.amount),
            "charges_total": str(self.charges_total),
            "paid": str(self.paid),
            "total": str(self.total),
        }


def charge_kind(description: str | None) -> str | None:
    """Which charge a syncd fee line is, from the label syncd wrote (``outbox.writes``)."""
    text = description or ""
    for kind, label in FEE_LABELS.items():
        if text.startswith(f"{label}: "):
            return kind
    return None


def is_charge_invoice(invoice: Invoice) -> bool:
    """An invoice of syncd's charges only: where a provider cannot add a fee line to an
    invoice that has a payment allocated (Xero), the fee goes on an invoice of its own,
    which a letter demands with the debt it belongs to, whether or not it is due yet."""
    return bool(invoice.lines) and all(charge_kind(ln.description) for ln in invoice.lines)


def _party_of_company(company: CompanyInfo | None, fallback: str) -> Party:
    if company is None:
        return Party(name=fallback)
    return Party(
        name=company.legal_name or company.name,
        address=company.address,
        email=company.email,
        phone=company.phone,
        country=company.country,
    )


def find_customer(session: Session, org_id: int, provider_id: str) -> Customer:
    customer = session.scalar(
        select(Customer).where(Customer.org_id == org_id, Customer.provider_id == provider_id)
    )
    if customer is None:
        raise StatementError(f"no customer {provider_id!r} in this org's store")
    return customer


def build_statement(
    session: Session,
    org_id: int,
    customer_id: str,
    today: date,
    *,
    org_name: str,
    currency: str | None = None,
    invoice_ids: list[str] | None = None,
) -> Statement:
    """Every overdue invoice of the customer (in ``currency``, else the currency most of
    them are in), or exactly ``invoice_ids``."""
    customer = find_customer(session, org_id, customer_id)
    stmt = select(Invoice).where(
        Invoice.org_id == org_id, Invoice.customer_provider_id == customer_id
    )
    if invoice_ids is not None:
        rows = [r for r in session.scalars(stmt) if r.provider_id in set(invoice_ids)]
    else:
        rows = [
            r
            for r in session.scalars(stmt)
            if r.status == "open"
            and r.balance > 0
            and ((r.due_date and r.due_date < today) or is_charge_invoice(r))
        ]
        if all(is_charge_invoice(r) for r in rows):
            rows = []  # charges alone are no overdue debt to demand
    if not rows:
        raise StatementError(f"customer {customer.name!r} has no overdue invoice")
    if currency is None:
        counts: dict[str, int] = defaultdict(int)
        for r in rows:
            counts[r.currency] += 1
        currency = max(sorted(counts), key=lambda c: counts[c])
    rows = sorted(
        (r for r in rows if r.currency == currency),
        key=lambda r: (r.due_date or today, r.number or r.provider_id),
    )
    charges: list[Charge] = []
    invoices: list[StatementInvoice] = []
    for r in rows:
        number = r.number or r.provider_id
        mine = [
            Charge(
                kind,
                FEE_LABELS[kind],
                number,
                ln.description or "",
                round_money(ln.amount, currency),
            )
            for ln in r.lines
            if (kind := charge_kind(ln.description)) is not None
        ]
        charges.extend(mine)
        added = sum((c.amount for c in mine), Decimal(0))
        invoices.append(
            StatementInvoice(
                provider_id=r.provider_id,
                number=number,
                issue_date=r.issue_date,
                due_date=r.due_date,
                amount=round_money(r.total - added, currency),
                charges=round_money(added, currency),
                paid=round_money(r.total - r.balance, currency),
                balance=round_money(r.balance, currency),
                days_overdue=max(0, (today - (r.due_date or today)).days),
                pay_url=r.pay_url,
            )
        )
    charges.sort(key=lambda c: (CHARGE_KINDS.index(c.kind), c.invoice_number))
    return Statement(
        business=_party_of_company(stored_company(session, org_id), org_name),
        customer=Party(
            name=customer.name,
            address=tuple(customer.address or ()),
            email=customer.email,
            phone=customer.phone,
            country=customer.country,
        ),
        customer_id=customer_id,
        is_business=customer.is_business,
        currency=currency,
        as_of=today,
        invoices=tuple(invoices),
        charges=tuple(charges),
        payments=tuple(payments_for(session, org_id, {i.provider_id: i.number for i in invoices})),
    )


def payments_for(session: Session, org_id: int, numbers: dict[str, str]) -> list[StatementPayment]:
    """Payments and credits allocated to these invoices, oldest first."""
    if not numbers:
        return []
    rows = session.execute(
        select(Payment, PaymentAllocation)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(
            Payment.org_id == org_id,
            Payment.deleted.is_(False),
            PaymentAllocation.invoice_provider_id.in_(sorted(numbers)),
        )
    )
    out = [
        StatementPayment(
            p.provider_id,
            p.kind,
            p.date,
            numbers[a.invoice_provider_id],
            round_money(a.amount, p.currency),
        )
        for p, a in rows
    ]
    return sorted(out, key=lambda p: (p.date or date.min, p.provider_id))
