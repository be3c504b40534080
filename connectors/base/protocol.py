"""The connector protocol: what syncd calls on one organisation, and how it creates one.

A third party adds a provider by implementing :class:`Connector` and
:class:`ConnectorFactory` against ``connectors.base`` alone and registering the factory under
the ``syncd.connectors`` entry point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from connectors.base.actions import ActionResult, Charge, CompanyInfo, Credit, PreflightFinding
from connectors.base.oauth import TokenStore
from connectors.base.records import EntityKind, InvoiceRecord, Page

ENTRY_POINT_GROUP = "syncd.connectors"


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

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        """Read the named records fresh in as few calls as the provider allows (batched
        fresh reads, webhook-triggered syncs). Ids the provider no longer has come back as
        :class:`Deletion` entries; the page's ``cursor`` is ``None``."""
        ...

    def company_info(self) -> CompanyInfo:
        """The connected business as the provider describes it."""
        ...

    def preflight(self) -> list[PreflightFinding]:
        """Check, without writing anything, that every write this connection is configured
        for would be accepted (late-fee item, account, tax code; reminder channel)."""
        ...

    # -- generic write capabilities ----------------------------------------------------
    # A small set of writes every action kind's executor handler composes from
    # (``syncd.outbox.handlers``); a new kind needs a new capability only if it writes
    # something new to the ledger. Each is idempotent under ``idempotency_key``: a repeat
    # with the same key answers as the first did and writes nothing twice.

    def add_note(self, invoice_id: str, text: str, *, idempotency_key: str) -> ActionResult:
        """Add a note to the invoice (history note / private note), tagged with the key."""
        ...

    def send_provider_email(
        self, invoice_id: str, *, to: str | None, idempotency_key: str
    ) -> ActionResult:
        """Ask the provider to email the invoice itself (to ``to``, or its own address)."""
        ...

    def add_charge(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> ActionResult:
        """Add a charge line to the invoice (or a separate fee invoice, per the options)."""
        ...

    def apply_credit(
        self, invoice_id: str, credit: Credit, *, idempotency_key: str
    ) -> ActionResult:
        """Issue a credit note for ``credit`` and apply it to the invoice, exactly once: a
        replay (same key) finds the tagged credit note and completes or returns it.
        ``remote_id`` is the credit note's id; ``invoice`` the invoice after it.
        Raises :class:`PermanentError` when the credit exceeds the amount due or its
        currency differs from the invoice's."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class WritesFromRead(Protocol):
    """Optional: writes built from an invoice the caller already read (``seen``, from a
    batched read) instead of a read of their own. Where the provider can tell (QuickBooks'
    SyncToken), a write is refused with :class:`StaleWriteError` if the invoice changed since
    ``seen`` was read: a payment changes the version, so the write itself proves the invoice
    was not paid after the read. Idempotent under the key, as the plain capabilities are."""

    def writes_versioned(self, capability: str) -> bool:
        """Whether ``capability`` ("note", "charge") is version-checked with this org's
        options; if not, ``seen`` must have been read just before (the caller's job)."""
        ...

    def add_note_seen(
        self, seen: InvoiceRecord, text: str, *, idempotency_key: str, attempt: int = 0
    ) -> ActionResult:
        """``attempt``: the caller's attempt number for this key (0: unknown). On attempt 1 no
        earlier attempt can have written anything, so a connector need not look for its tag in
        what ``seen`` does not show (Xero's history notes, a fee invoice) before writing; a
        later attempt is a new request (a provider may replay a refusal under an old id)."""
        ...

    def add_charge_seen(
        self,
        seen: InvoiceRecord,
        charge: Charge,
        *,
        idempotency_key: str,
        attempt: int = 0,
    ) -> ActionResult: ...


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
