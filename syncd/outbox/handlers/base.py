"""What one action kind is, as far as the executor and ``syncd preview`` are concerned:
a :class:`Handler`, registered under the kind's name (``policies.kinds`` holds the pure
parts of the same kind).

A handler gets what it needs from the executor through :class:`ExecContext` (the org's
connector, the store, the clock, the mailer, the fresh read of an invoice) and from the
preview through :class:`PreviewContext` (the store, the config, the clock); it never
builds those itself, so that the executor's exactly-once rules (claim, crashpoints,
transitions, retries) stay in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import select

from connectors.base import (
    ActionResult,
    Charge,
    Connector,
    InvoiceRecord,
    PermanentError,
    StaleWriteError,
    TransientError,
    WritesFromRead,
)

from ...crashpoints import crashpoint
from ...store.models import DunningState as DunningStateRow
from ...store.models import Invoice, OutboxAction

if TYPE_CHECKING:
    from ...clock import Clock
    from ...config.loader import LoadedConfig
    from ...store import Store


#: Times a version-checked write is decided again on a fresh read after a refusal.
STALE_REDECIDE = 2


class Skip(Exception):
    """The action no longer applies; closed as skipped with this reason."""


#: Sends one email action. It must call ``mark_handed(message_id)`` after the SMTP server
#: accepted the recipients and immediately before the body is transmitted; returns the
#: Message-ID.
EmailSender = Callable[[OutboxAction, dict[str, InvoiceRecord], Callable[[str], None]], str]


class ExecContext(Protocol):
    """The executor, as a handler sees it (one org, the lease held, the row claimed)."""

    store: Store
    org_id: int
    connector: Connector
    send_email: EmailSender | None
    now: Callable[[], datetime]

    def fresh(self, invoice_id: str) -> InvoiceRecord:
        """Re-read the invoice from the provider and store it; raises :class:`Skip` if it
        no longer exists or is closed (paid, voided)."""
        ...

    def fresh_many(self, invoice_ids: list[str]) -> dict[str, InvoiceRecord]:
        """:meth:`fresh` for several invoices in one batched read; closed ones left out."""
        ...

    def seen(self, invoice_id: str) -> InvoiceRecord:
        """What the run last read of the invoice, for a version-checked write; raises
        :class:`Skip` if that read saw it closed."""
        ...

    def reread(self, invoice_id: str) -> InvoiceRecord:
        """Read the invoice on its own now and decide again (after a stale write)."""
        ...

    def writes_versioned(self, capability: str) -> bool:
        """Whether the connector version-checks writes of ``capability`` for this org."""
        ...

    def apply_invoice(self, record: InvoiceRecord) -> None:
        """Store an invoice as the provider returned it after a write."""
        ...


@dataclass(frozen=True)
class PreviewContext:
    store: Store
    config: LoadedConfig
    org_name: str
    org_id: int
    clock: Clock


@dataclass
class Rendered:
    """The executor's work for one action: at most one of message / note / fee is set;
    other kinds describe theirs in ``detail``."""

    kind: str
    message: EmailMessage | None = None
    envelope: tuple[str, ...] = ()
    note: str | None = None
    fee: Charge | None = None
    #: Set when the executor would not act (or fail): why.
    problem: str | None = None
    detail: str | None = None
    #: Files the action would produce or attach (name, content), e.g. a letter's PDF.
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def subject(self) -> str | None:
        return str(self.message["Subject"]) if self.message is not None else None

    def body(self, subtype: str) -> str:
        if self.message is None:
            return ""
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if isinstance(part, EmailMessage) else ""

    def first_lines(self, count: int = 4) -> list[str]:
        lines = [ln.rstrip() for ln in self.body("plain").splitlines() if ln.strip()]
        return lines[:count]


class Handler:
    """Executes and previews one kind. Subclass, set ``kind``, register an instance.

    ``execute`` returns the row's closing changes (``remote_id``, ``message_id``,
    ``result``: a JSON-able dict); raise :class:`Skip` when the action no longer applies,
    ``connectors.base.TransientError`` to retry, ``PermanentError`` to fail it.
    ``checks_invoice``: the preview reports a closed invoice as "would skip" (handlers
    that look at several invoices do it themselves). ``previews_message``: the review
    digest shows the rendered subject line.
    """

    kind: ClassVar[str]
    checks_invoice: ClassVar[bool] = True
    previews_message: ClassVar[bool] = False

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        raise NotImplementedError

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        out.detail = f"{row.kind}: recorded in syncd only (nothing is sent or written)"


class ProviderWrite(Handler):
    """A write to the invoice in the accounting system, through one of the connector's
    generic write capabilities: know the invoice fresh (skip it if closed), write with the
    row's idempotency key, store what the provider returned. A crash anywhere re-runs it
    with the same key, which the provider (and the connector's tag) answers once.

    Where the connector version-checks the kind's ``capability`` (``WritesFromRead``), the
    write is built from the run's batched read and the provider refuses it if the invoice
    changed since: then the invoice is read on its own and the action decided again (a paid
    invoice is skipped). Otherwise the invoice is confirmed by a re-read made just before."""

    #: The ``connectors.base.WritesFromRead`` capability this kind writes through, if any.
    capability: ClassVar[str | None] = None

    def write(self, ex: ExecContext, row: OutboxAction, fresh: InvoiceRecord) -> ActionResult:
        raise NotImplementedError

    def write_seen(self, ex: ExecContext, row: OutboxAction, seen: InvoiceRecord) -> ActionResult:
        """The write built from ``seen`` (when the connector offers ``WritesFromRead``)."""
        raise NotImplementedError

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        invoice_id = row.invoice_provider_id
        if invoice_id is None:
            raise PermanentError(f"{row.kind} action without an invoice")
        if self.capability is not None and ex.writes_versioned(self.capability):
            result = self._versioned(ex, row, invoice_id)
        else:
            fresh = ex.fresh(invoice_id)
            crashpoint("executor.before_provider")
            if self.capability is not None and isinstance(ex.connector, WritesFromRead):
                result = self.write_seen(ex, row, fresh)  # fresh: confirmed moments ago
            else:
                result = self.write(ex, row, fresh)
        crashpoint("executor.after_provider")
        if result.invoice is not None:
            ex.apply_invoice(result.invoice)
        return {"remote_id": result.remote_id, "result": {"detail": result.detail}}

    def _versioned(self, ex: ExecContext, row: OutboxAction, invoice_id: str) -> ActionResult:
        seen = ex.seen(invoice_id)
        crashpoint("executor.before_provider")
        for _ in range(STALE_REDECIDE):
            try:
                return self.write_seen(ex, row, seen)
            except StaleWriteError:
                seen = ex.reread(invoice_id)  # Skip if it was paid meanwhile
        try:
            return self.write_seen(ex, row, seen)
        except StaleWriteError as exc:
            raise TransientError(f"{exc} (again, after reading it fresh)") from None


class LocalHandler(Handler):
    """A kind that changes only syncd's own records of the invoice (shown in reports);
    nothing is sent or written to the ledger."""

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        if row.invoice_provider_id is not None:
            with ex.store.sessions.begin() as session:
                internal = session.scalar(
                    select(Invoice.id).where(
                        Invoice.org_id == ex.org_id, Invoice.provider_id == row.invoice_provider_id
                    )
                )
                state = session.get(DunningStateRow, internal) if internal else None
                if state is not None:
                    self.record(state, row)
        return {"result": {"detail": f"{row.kind} recorded"}}

    def record(self, state: DunningStateRow, row: OutboxAction) -> None:
        """Change the invoice's stored dunning state (the engine's state already says it)."""
