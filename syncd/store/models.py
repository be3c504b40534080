"""The store's tables as SQLAlchemy 2 typed models.

Provider ids are kept verbatim and are unique per organisation (per kind, for payments, since
QuickBooks numbers payments and credit memos separately). Invoices point at customers by
provider id rather than by foreign key: providers deliver them in any order and syncd must
never drop an invoice because its customer has not arrived yet.
"""

from __future__ import annotations

import enum
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
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        dict[str, Any]: JSON(),
    }


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


class Org(Base):
    """One connected organisation (a QuickBooks realm or a Xero tenant)."""

    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    connector: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]
    #: Tokens are encrypted by syncd before they reach this row; never plain text.
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None]
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_expires_at: Mapped[datetime | None]
    token_updated_at: Mapped[datetime | None]
    #: Bumped on every token write so concurrent refreshers can detect a lost race.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    #: The day dunning started, recorded once the first backfill completed (the config's
    #: ``go_live`` overrides it).
    go_live: Mapped[date | None] = mapped_column(Date)
    #: The business as the provider describes it (``CompanyInfo``), refreshed on sync: its
    #: name signs reminder emails, so it must not depend on a live call at send time.
    company_name: Mapped[str | None] = mapped_column(String(500))
    company_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    company_info_at: Mapped[datetime | None]


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
    """A pause (promise to pay) or a dispute on an invoice or a whole customer."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_org_scope", "org_id", "scope", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16))  # "invoice" | "customer"
    provider_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "pause" | "dispute"
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


class OrgLease(Base):
    """Which process works on an org (see ``syncd.store.leases``); one row per org."""

    __tablename__ = "org_leases"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    #: Bumped by every new holder: the fencing token outbox claims carry.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    #: ``host:pid:nonce`` of the holder; NULL once released.
    holder: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    pid_namespace: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


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


class PaymentPlan(Base):
    """An agreed payment plan over one customer's invoices (``syncd payment-plan``).

    ``status``: ``active`` (kept so far), ``completed``, ``broken`` or ``cancelled``; the
    covered invoices and the schedule are in the two child tables. While active, each covered
    invoice carries a pause hold whose ``actor`` is ``syncd:plan/<id>``, so ordinary dunning
    (reminders, fees) stops; the hold is released when the plan ends.
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
    (then ``met``, and the credit action is queued under ``credit_key``), ``lapsed`` when the
    date passes first (dunning resumes), or ``cancelled``. While pending the invoice carries a
    pause hold whose ``actor`` is ``syncd:settlement/<id>``.
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
