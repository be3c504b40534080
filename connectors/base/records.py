"""The normalised records a connector pulls: customers, invoices, payments and their pages.

Records are plain frozen dataclasses with ``Decimal`` money, ISO currency codes and
timezone-aware UTC times; nothing here imports syncd's store, config or policy engine.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.base.checks import require_decimal, require_utc


class InvoiceStatus(enum.StrEnum):
    """Where an invoice stands. Only ``OPEN`` invoices are ever dunned."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"


class PaymentKind(enum.StrEnum):
    """Anything that reduces an invoice's balance."""

    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


class EntityKind(enum.StrEnum):
    """The entity streams a connector pulls; each has its own cursor in the store."""

    CUSTOMERS = "customers"
    INVOICES = "invoices"
    PAYMENTS = "payments"


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    provider_id: str
    name: str
    email: str | None
    currency: str | None
    updated_at: datetime
    active: bool = True
    deleted: bool = False
    locale: str | None = None
    #: Customer groups, types or tags as the provider names them (Xero ContactGroups by
    #: name, QuickBooks CustomerTypeRef by name); policy rules match these.
    groups: tuple[str, ...] = ()
    #: ISO 3166-1 alpha-2 country of the billing address, where the provider has one.
    country: str | None = None
    #: True for a business, False for a consumer, None when the provider does not say
    #: (statutory interest applies only to business debts; the policy decides the default).
    is_business: bool | None = None
    phone: str | None = None
    #: Billing address lines, most specific first (for letters and case files).
    address: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        require_utc("updated_at", self.updated_at)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    provider_line_id: str | None
    description: str | None
    amount: Decimal
    item_ref: str | None = None
    #: The idempotency key of the syncd late fee that created this line, if any.
    fee_key: str | None = None

    def __post_init__(self) -> None:
        require_decimal("amount", self.amount)


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    provider_id: str
    number: str | None
    customer_provider_id: str
    issue_date: date | None
    due_date: date | None
    currency: str
    total: Decimal
    balance: Decimal
    status: InvoiceStatus
    updated_at: datetime
    #: The provider's optimistic-lock token or change stamp
    #: (QuickBooks SyncToken, Xero UpdatedDateUTC).
    version: str | None = None
    lines: tuple[InvoiceLine, ...] = ()
    pay_url: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        require_utc("updated_at", self.updated_at)
        require_decimal("total", self.total)
        require_decimal("balance", self.balance)


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_provider_id: str
    amount: Decimal

    def __post_init__(self) -> None:
        require_decimal("amount", self.amount)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    provider_id: str
    kind: PaymentKind
    customer_provider_id: str | None
    date: date | None
    currency: str
    amount: Decimal
    unapplied: Decimal
    updated_at: datetime
    allocations: tuple[Allocation, ...] = ()
    deleted: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The record's JSON text exactly as the provider sent it, when the connector kept it
    #: (the fast read path): the store keeps these bytes instead of re-encoding ``raw``.
    raw_json: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        require_utc("updated_at", self.updated_at)
        require_decimal("amount", self.amount)
        require_decimal("unapplied", self.unapplied)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A record the provider says is gone; the store marks it deleted, never forgets it."""

    entity: EntityKind
    provider_id: str
    deleted_at: datetime
    kind: PaymentKind | None = None

    def __post_init__(self) -> None:
        require_utc("deleted_at", self.deleted_at)


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A provider record that could not be mapped; kept with its reason, never lost silently."""

    entity: EntityKind
    provider_id: str | None
    reason: str
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Page:
    """One bounded unit of work that the store commits in a single transaction.

    ``cursor`` is what the caller must persist together with the page's rows: for a backfill
    it resumes the pull after this page, for an incremental pull it is the next change cursor.
    """

    customers: tuple[CustomerRecord, ...] = ()
    invoices: tuple[InvoiceRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()
    deletions: tuple[Deletion, ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()
    cursor: str | None = None
