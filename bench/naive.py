"""The loop a user writes from python-quickbooks' README: the baseline syncd must beat.

``Customer/Invoice/Payment.query`` with STARTPOSITION and MAXRESULTS 1000, each object added
through the SQLAlchemy ORM one at a time into its own tables, one commit per page. It keeps
less than syncd does (no credit memos, no allocations, no raw payloads, no cursors), so the
comparison flatters it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import requests
from quickbooks import QuickBooks
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment
from sqlalchemy import Date, Numeric, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

PAGE = 1000


class _Base(DeclarativeBase):
    pass


class NaiveCustomer(_Base):
    __tablename__ = "naive_customers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(500))
    balance: Mapped[Decimal] = mapped_column(Numeric(20, 2))


class NaiveInvoice(_Base):
    __tablename__ = "naive_invoices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    balance: Mapped[Decimal] = mapped_column(Numeric(20, 2))


class NaivePayment(_Base):
    __tablename__ = "naive_payments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))


class _TokenSession(requests.Session):
    """python-quickbooks reads ``session.access_token`` for its Authorization header."""

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token


def access_token(token_url: str, client_id: str, client_secret: str, refresh: str) -> str:
    response = requests.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(client_id, client_secret),
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def client(base_url: str, realm_id: str, token: str) -> QuickBooks:
    qb = QuickBooks(company_id=realm_id, minorversion=75, use_decimal=True)
    qb.session = _TokenSession(token)
    qb.sandbox = False
    qb.api_url_v3 = base_url
    return qb


def _customer(obj: Any) -> NaiveCustomer:
    email = obj.PrimaryEmailAddr.Address if obj.PrimaryEmailAddr else None
    return NaiveCustomer(id=obj.Id, name=obj.DisplayName, email=email, balance=obj.Balance)


def _invoice(obj: Any) -> NaiveInvoice:
    due = date.fromisoformat(obj.DueDate) if obj.DueDate else None
    return NaiveInvoice(
        id=obj.Id,
        number=obj.DocNumber,
        customer_id=obj.CustomerRef.value,
        due_date=due,
        total=obj.TotalAmt,
        balance=obj.Balance,
    )


def _payment(obj: Any) -> NaivePayment:
    customer = obj.CustomerRef.value if obj.CustomerRef else None
    return NaivePayment(id=obj.Id, customer_id=customer, amount=obj.TotalAmt)


def backfill(qb: QuickBooks, store_url: str) -> int:
    """Every customer, invoice and payment into ``store_url``; the number of rows written."""
    engine = create_engine(store_url)
    _Base.metadata.drop_all(engine)
    _Base.metadata.create_all(engine)
    written = 0
    streams: list[tuple[Any, str, Callable[[Any], _Base]]] = [
        (Customer, "Customer", _customer),
        (Invoice, "Invoice", _invoice),
        (Payment, "Payment", _payment),
    ]
    with Session(engine) as session:
        for sdk_class, name, convert in streams:
            position = 1
            while True:
                rows = sdk_class.query(
                    f"SELECT * FROM {name} STARTPOSITION {position} MAXRESULTS {PAGE}",
                    qb=qb,
                )
                for obj in rows:
                    session.add(convert(obj))
                session.commit()
                written += len(rows)
                if len(rows) < PAGE:
                    break
                position += PAGE
    engine.dispose()
    return written


def invoice_problems(store_url: str, truth: dict[str, Any]) -> list[str]:
    """The naive store against the sandbox's truth (live invoices: id, balance, total)."""
    engine = create_engine(store_url)
    with Session(engine) as session:
        stored = {i.id: (i.balance, i.total) for i in session.query(NaiveInvoice)}
    engine.dispose()
    problems = []
    for t in truth["invoices"]:
        if t["status"] == "deleted":
            continue
        want = (Decimal(t["balance"]), Decimal(t["total"]))
        got = stored.pop(t["id"], None)
        if got != want:
            problems.append(f"invoice {t['id']}: naive store {got} != provider {want}")
    problems += [f"invoice {pid} unknown to the provider" for pid in stored]
    return problems
