"""The connector protocol and the normalised records that cross it.

Everything syncd knows about an accounting system passes through this module, so a third
party can add a provider by implementing :class:`Connector` and :class:`ConnectorFactory`
against this file alone and registering the factory under the ``syncd.connectors`` entry
point group. Nothing here imports syncd's store, config or policy engine: records are plain
frozen dataclasses with ``Decimal`` money, ISO currency codes and timezone-aware UTC times.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

ENTRY_POINT_GROUP = "syncd.connectors"


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


def _require_utc(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")


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
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    provider_line_id: str | None
    description: str | None
    amount: Decimal
    item_ref: str | None = None
    #: The idempotency key of the syncd late fee that created this line, if any.
    fee_key: str | None = None

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


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

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)
        _require_decimal("total", self.total)
        _require_decimal("balance", self.balance)


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_provider_id: str
    amount: Decimal

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


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

    def __post_init__(self) -> None:
        _require_utc("updated_at", self.updated_at)
        _require_decimal("amount", self.amount)
        _require_decimal("unapplied", self.unapplied)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A record the provider says is gone; the store marks it deleted, never forgets it."""

    entity: EntityKind
    provider_id: str
    deleted_at: datetime
    kind: PaymentKind | None = None

    def __post_init__(self) -> None:
        _require_utc("deleted_at", self.deleted_at)


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


@dataclass(frozen=True, slots=True)
class LateFee:
    amount: Decimal
    currency: str
    description: str

    def __post_init__(self) -> None:
        _require_decimal("amount", self.amount)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the provider did; ``remote_id`` names what was written (note, fee line, invoice)."""

    remote_id: str | None = None
    detail: str | None = None
    invoice: InvoiceRecord | None = None


class ConnectorError(Exception):
    """Base of provider errors. Messages must never contain secrets."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, 5xx, throttling."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying the same request cannot succeed: validation, missing data, refused edits."""


class AuthError(ConnectorError):
    """The credentials are no longer valid; a human must reconnect the organisation."""


class CursorExpiredError(ConnectorError):
    """The change cursor is older than the provider can answer for; do a full pull instead."""


@dataclass(slots=True)
class TokenState:
    access_token: str | None = None
    access_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


class TokenStore(Protocol):
    """Durable token storage owned by syncd; ``save`` must commit before it returns."""

    def load(self) -> TokenState: ...

    def save(self, state: TokenState) -> None: ...


@runtime_checkable
class Connector(Protocol):
    """One organisation in one accounting system."""

    def backfill(self, entity: EntityKind, resume: str | None) -> Iterator[Page]:
        """Pull every record of ``entity`` page by page, starting after ``resume``."""
        ...

    def cursor_now(self) -> str:
        """A change cursor meaning "now" by the provider's clock; taken before a backfill starts
        so that whatever changes during the backfill is picked up by the next incremental pull."""
        ...

    def changes(self, cursor: str) -> Iterator[Page]:
        """Pull what changed since ``cursor`` (all entities, deletions and voids included).

        Raises :class:`CursorExpiredError` when the provider cannot answer that far back.
        """
        ...

    def fetch_invoice(self, provider_id: str) -> InvoiceRecord | None:
        """Read one invoice fresh from the provider; ``None`` if it no longer exists."""
        ...

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult: ...

    def send_reminder(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult: ...

    def add_late_fee(
        self, invoice_id: str, fee: LateFee, *, idempotency_key: str
    ) -> ActionResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class OrgConnection:
    """What syncd hands a factory: the org's validated settings and where to keep tokens."""

    org_name: str
    credentials: BaseModel
    options: BaseModel
    base_url: str | None
    token_url: str | None
    tokens: TokenStore
    #: The only source of "now" a connector may use (token expiry, cursors).
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class ConnectorFactory(Protocol):
    """Registered under the ``syncd.connectors`` entry point group by name."""

    name: ClassVar[str]
    #: Validates ``[orgs.credentials]``; secrets should be ``pydantic.SecretStr``.
    credentials_model: ClassVar[type[BaseModel]]
    #: Validates ``[orgs.options]`` (late-fee item, fee mode, page size ...).
    options_model: ClassVar[type[BaseModel]]

    def create(self, connection: OrgConnection) -> Connector: ...
