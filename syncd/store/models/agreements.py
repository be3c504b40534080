"""What was agreed with a customer or asked of a person: payment plans with their invoices
and instalments, settlements, and call tasks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class PaymentPlan(Base):
    """An agreed payment plan over one customer's invoices (``syncd payment-plan``).

    ``status``: ``active`` (kept so far, or its confirmation email still on its way),
    ``completed``, ``broken``, ``cancelled`` or ``unconfirmed`` (the confirmation can no longer
    reach the customer, so the plan never came into force); the covered invoices and the
    schedule are in the two child tables. While active, each covered invoice carries a pause
    hold whose ``actor`` is ``syncd:plan/<id>``, so ordinary dunning (reminders, fees) stops;
    the hold is released when the plan ends, except for an ``unconfirmed`` plan, whose holds
    stay until a person cancels it or resumes the invoices.
    """

    __tablename__ = "payment_plans"
    __table_args__ = (Index("ix_payment_plans_org_customer", "org_id", "customer_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    #: The covered balance: the instalments add up to exactly this.
    amount: Mapped[Decimal]
    every: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    #: The policy's ``on_break`` when the plan broke ("resume" | "escalate").
    on_break: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)

    invoices: Mapped[list[PaymentPlanInvoice]] = relationship(
        cascade="all, delete-orphan", order_by="PaymentPlanInvoice.id", passive_deletes=True
    )
    instalments: Mapped[list[PaymentPlanInstalment]] = relationship(
        cascade="all, delete-orphan",
        order_by="PaymentPlanInstalment.number",
        passive_deletes=True,
    )


class PaymentPlanInvoice(Base):
    __tablename__ = "payment_plan_invoices"
    __table_args__ = (UniqueConstraint("plan_id", "invoice_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    invoice_provider_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(255))
    #: The invoice's balance when the plan was agreed.
    balance: Mapped[Decimal]


class PaymentPlanInstalment(Base):
    """One instalment; ``paid`` and ``met_on`` are recomputed from synced payments each cycle
    (number 0 is the deposit)."""

    __tablename__ = "payment_plan_instalments"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal]
    paid: Mapped[Decimal]
    met_on: Mapped[date | None] = mapped_column(Date)


class Settlement(Base):
    """An agreed reduced payment on one invoice (``syncd settle``).

    ``status``: ``pending`` until payments reaching ``agreed_amount`` arrive by ``pay_by``
    (then ``met``, and the credit action is queued under ``credit_key``), ``closed`` once that
    credit is done (or nothing is left to credit), ``unclosed`` when the credit failed or was
    skipped (the hold stays until a person resumes the invoice), ``lapsed`` when the date
    passes first (dunning resumes), or ``cancelled``. While pending or met the invoice carries
    a pause hold whose ``actor`` is ``syncd:settlement/<id>``.
    """

    __tablename__ = "settlements"
    __table_args__ = (Index("ix_settlements_org_invoice", "org_id", "invoice_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    invoice_provider_id: Mapped[str] = mapped_column(String(64))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    #: The invoice's balance when the offer was agreed.
    balance: Mapped[Decimal]
    agreed_amount: Mapped[Decimal]
    pay_by: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    met_on: Mapped[date | None] = mapped_column(Date)
    credit_key: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)


class CallTask(Base):
    """A call a person should make (``call`` action kind); its outcome feeds back as holds.

    ``details`` is what the caller sees, as it stood when the task was made: the open
    invoices, the amount overdue per currency, the history so far, the instructions.
    """

    __tablename__ = "call_tasks"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_call_tasks_org_status", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    #: The outbox action that made it: a recovered action finds its task instead of a second.
    idempotency_key: Mapped[str] = mapped_column(String(200))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(100))
    invoice_provider_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    details: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # "open" | "done"
    outcome: Mapped[str | None] = mapped_column(String(16))
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
