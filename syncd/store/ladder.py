"""Tables of the recovery ladder's later rungs: demand letters, the hand-off to an agency,
and every email exactly as it was handed to the SMTP server (the case file's evidence).

Kept out of ``models.py`` so each rung of the ladder owns its tables; imported by the
store package so Alembic and ``create_all`` see them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class Letter(Base):
    """A letter of demand (or a pre-action letter of claim) produced by an escalation.

    One per escalating outbox action (``action_key``): re-running the action after a crash
    finds the letter and never produces a second one."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("org_id", "action_key"),
        Index("ix_letters_org_customer", "org_id", "customer_provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    action_key: Mapped[str] = mapped_column(String(200))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    #: ``demand`` or ``pre-action-ew``.
    template: Mapped[str] = mapped_column(String(32))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    dated: Mapped[date] = mapped_column(Date)
    pay_by: Mapped[date] = mapped_column(Date)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    by_post: Mapped[bool] = mapped_column(Boolean)
    attach_to_email: Mapped[bool] = mapped_column(Boolean)
    #: The day the business says it posted the letter (``syncd letters mark-sent``).
    posted_on: Mapped[date | None] = mapped_column(Date)
    posted_by: Mapped[str | None] = mapped_column(String(200))
    #: The statement the letter shows, as figures (the case file and the timeline use it).
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Handoff(Base):
    """A customer's debt referred to an agency or lawyer: syncd takes no automatic action
    for the customer while the hand-off stands."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_org_customer", "org_id", "customer_provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(300))
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    #: What the customer owed on the referred invoices at the moment of the hand-off.
    balance: Mapped[Decimal]
    #: Payments (provider ids) already in the case file: any other is news for the agency.
    known_payments: Mapped[list[str]] = mapped_column(JSON)
    archive_path: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class SentMessage(Base):
    """An email exactly as handed to the SMTP server (RFC 5322 text), stored just before
    hand-off: the communication log of a case file shows what the customer received."""

    __tablename__ = "sent_messages"
    __table_args__ = (UniqueConstraint("action_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    action_id: Mapped[int] = mapped_column(ForeignKey("outbox_actions.id", ondelete="CASCADE"))
    customer_provider_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


__all__ = ["Handoff", "Letter", "SentMessage"]
