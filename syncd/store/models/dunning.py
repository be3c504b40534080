"""What dunning decided and did: per-invoice state, holds, the outbox of actions, the audit
log and A/B experiment assignments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: Held for a human (``syncd review``): nothing in this state reaches a customer, the
    #: ledger or the provider, and the executor never selects it.
    AWAITING_REVIEW = "awaiting_review"


class HoldKind(enum.StrEnum):
    """Which review holds syncd lifts by itself once their cause is gone, kept in a column so
    the release reads its own rows by index, not by matching reason text (a row held for any
    other reason has no kind: only a human ends that hold)."""

    #: An email to a customer syncd has no address for (``syncd.review.address``).
    ADDRESS = "address"


class DunningState(Base):
    """Per-invoice dunning progress: what fired, which fee periods were charged, holds."""

    __tablename__ = "dunning_states"

    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str | None] = mapped_column(String(64))
    #: The policy engine's own serialised state (fired steps, charged fee periods).
    state: Mapped[dict[str, Any]]
    escalated: Mapped[str | None] = mapped_column(String(32))
    #: Earliest local day a cycle could act (NULL: not until something changes); indexed so a
    #: cycle plans only candidates instead of every open invoice.
    next_action_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: Fingerprint of the policies and settings this state was last planned under: after a
    #: config change every invoice is planned once more.
    plan_fingerprint: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Hold(Base):
    """A pause (promise to pay), a dispute or a hand-off on an invoice or a whole customer.

    ``kind``: ``pause`` and ``dispute`` are placed and lifted by hand (``syncd pause``,
    ``syncd dispute``, ``syncd resume``) or by an agreement (a plan's or settlement's pause);
    ``handoff`` is the customer-wide hold of ``syncd handoff``, which the policy engine treats
    as a dispute and only the hand-off's release lifts.
    """

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_org_scope", "org_id", "scope", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16))  # "invoice" | "customer"
    provider_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "pause" | "dispute" | "handoff"
    until: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class OutboxAction(Base):
    """An action decided by a dunning cycle, executed at most once under its idempotency key."""

    __tablename__ = "outbox_actions"
    __table_args__ = (
        UniqueConstraint("org_id", "idempotency_key"),
        Index("ix_outbox_actions_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_actions_hold", "org_id", "hold_kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    invoice_provider_id: Mapped[str | None] = mapped_column(String(64))
    customer_provider_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime]
    remote_id: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[str | None] = mapped_column(String(300))
    #: Set, and committed, just before an email's body goes to the SMTP server: after a crash
    #: a row with this set may have been delivered and is never sent again.
    handed_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Why the action was held for review (NULL: it never was).
    review_reason: Mapped[str | None] = mapped_column(Text)
    #: The kind of that hold when syncd releases it by itself (``HoldKind``), else NULL.
    hold_kind: Mapped[str | None] = mapped_column(String(16))
    #: Who approved or skipped it, and when (also in the audit log).
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    #: Who claimed an ``in_flight`` row (``host:pid:lease``) and under which generation of
    #: the org's lease: only rows of an older generation (a holder that is gone) are recovered.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_generation: Mapped[int | None] = mapped_column(Integer)


class AuditEntry(Base):
    """Append-only record of everything syncd did and why (database triggers forbid edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_at", "org_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]]


class ExperimentAssignment(Base):
    """Which arm of an A/B policy experiment a customer is in (``policies.experiments``).

    Made once, the first time a dunning cycle sees the customer under the experiment's
    rule, and never changed: a later change of ``share`` or ``seed`` applies to new
    customers only. ``seed``/``share`` record what the assignment was made with.
    """

    __tablename__ = "experiment_assignments"
    __table_args__ = (
        UniqueConstraint(
            "org_id",
            "experiment",
            "customer_provider_id",
            name="uq_experiment_assignments_customer",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    experiment: Mapped[str] = mapped_column(String(200))
    customer_provider_id: Mapped[str] = mapped_column(String(64))
    arm: Mapped[str] = mapped_column(String(16))  # "control" | "candidate"
    policy: Mapped[str] = mapped_column(String(200))
    seed: Mapped[str] = mapped_column(String(200))
    share: Mapped[Decimal] = mapped_column(Numeric(10, 9))
    assigned_at: Mapped[datetime]
