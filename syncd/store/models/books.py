"""The books as the provider keeps them: customers, invoices with their lines, payments with
their allocations, and where each stream's sync stands.

Provider ids are kept verbatim and are unique per organisation (per kind, for payments, since
QuickBooks numbers payments and credit memos separately). Invoices point at customers by
provider id rather than by foreign key: providers deliver them in any order and syncd must
never drop an invoice because its customer has not arrived yet.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("org_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str | None] = mapped_column(String(3))
    locale: Mapped[str | None] = mapped_column(String(35))
    #: Provider groups / types / tags by name (policy rules match them); NULL before 0005.
    groups: Mapped[list[str] | None] = mapped_column(JSON)
    #: ISO 3166-1 alpha-2 billing country (email locale, statutory-interest rules).
    country: Mapped[str | None] = mapped_column(String(2))
    #: None when the provider does not say; config groups can still mark a business.
    is_business: Mapped[bool | None] = mapped_column(Boolean)
    phone: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[list[str] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_updated_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]]
    synced_at: Mapped[datetime]


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("org_id", "provider_id"),
        Index("ix_invoices_org_customer_status", "org_id", "customer_provider_id", "status"),
        Index("ix_invoices_org_status_due", "org_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    provider_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(255))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    balance: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16))
    provider_version: Mapped[str | None] = mapped_column(String(64))
    provider_updated_at: Mapped[datetime]
    pay_url: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]]
    synced_at: Mapped[datetime]

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="InvoiceLine.position",
        passive_deletes=True,
    )


class InvoiceLine(Base):
    """Line items, kept as far as late fees need them (existing lines must be resent intact)."""

    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_invoice", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    provider_line_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal]
    item_ref: Mapped[str | None] = mapped_column(String(64))
    fee_key: Mapped[str | None] = mapped_column(String(200))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    """Payments and credit notes: anything that reduces an invoice's balance."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("org_id", "kind", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(64))
    customer_provider_id: Mapped[str | None] = mapped_column(String(64))
    date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal]
    unapplied: Mapped[Decimal]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_updated_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any]]
    synced_at: Mapped[datetime]

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment",
        cascade="all, delete-orphan",
        order_by="PaymentAllocation.invoice_provider_id",
        passive_deletes=True,
    )


class PaymentAllocation(Base):
    __tablename__ = "payment_allocations"
    __table_args__ = (
        UniqueConstraint("payment_id", "invoice_provider_id"),
        Index("ix_payment_allocations_invoice", "invoice_provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    invoice_provider_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal]

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class SyncCursor(Base):
    """Where each entity stream of an org stands; written in the same transaction as its rows."""

    __tablename__ = "sync_cursors"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Incremental cursor (QuickBooks CDC timestamp, Xero UpdatedDateUTC watermark).
    cursor: Mapped[str | None] = mapped_column(Text)
    #: Resume point of an unfinished backfill; NULL once it completed.
    backfill_resume: Mapped[str | None] = mapped_column(Text)
    backfill_completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SkippedRecordRow(Base):
    """Provider records that could not be mapped, with the reason, for a human to look at."""

    __tablename__ = "skipped_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]]
    seen_at: Mapped[datetime]
