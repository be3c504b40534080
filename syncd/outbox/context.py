"""The executor as an action's handler sees it (``handlers.base.ExecContext``): the org's
connector, store, clock and mailer, and its invoices known fresh.

Before acting, the invoice is known fresh: a paid, voided or deleted invoice is skipped with
the reason, never dunned. The run reads its invoices in batches and keeps them fresh with
version-checked writes or confirming re-reads made just before (:mod:`.freshness`); this
module turns those reads into the handler's answer (the invoice, or :class:`Skip`) and
stores what it read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from connectors.base import Connector, InvoiceRecord, InvoiceStatus, Page, WritesFromRead

from ..crashpoints import crashpoint
from ..store import Store, apply_page
from .freshness import UNKNOWN, FreshInvoices, Known, is_unknown
from .handlers.base import EmailSender, Skip


class ExecutionContext:
    """What a handler sees of the executor (``handlers.base.ExecContext``): the base the
    :class:`~.executor.Executor` is built on, kept apart from the run so that the rules a
    handler relies on (an invoice is fresh, a closed one skipped) read in one place.
    Outside a run (``fresh_reads`` None) every invoice is read on its own."""

    store: Store
    org_id: int
    connector: Connector
    now: Callable[[], datetime]
    send_email: EmailSender | None
    #: This run's batched fresh reads (see :mod:`.freshness`).
    fresh_reads: FreshInvoices | None = None
    #: The due action being executed (its place in the run, for grouped re-reads).
    _position: int = 0

    def fresh(self, invoice_id: str, known: Known = UNKNOWN) -> InvoiceRecord:
        """The invoice as the provider has it now (stored as seen); skip if it closed.

        ``known`` is a read made for this action already; otherwise an invoice this run's
        batch saw closed needs no read at all, and an open one is confirmed by a re-read
        made moments before (with the next few actions' invoices, see :mod:`.freshness`).
        """
        if is_unknown(known) and self.fresh_reads is not None:
            known = self.fresh_reads.current(invoice_id, self._position)
        return self._decide(invoice_id, known)

    def seen(self, invoice_id: str) -> InvoiceRecord:
        """What this run last read of the invoice, for a write the provider refuses if the
        invoice changed since (skip if that read saw it closed)."""
        known = self.fresh_reads.seen(invoice_id) if self.fresh_reads is not None else UNKNOWN
        return self._decide(invoice_id, known)

    def reread(self, invoice_id: str) -> InvoiceRecord:
        """Read the invoice on its own now (after a refused stale write) and decide again."""
        return self._decide(invoice_id, UNKNOWN)

    def writes_versioned(self, capability: str) -> bool:
        connector = self.connector
        return isinstance(connector, WritesFromRead) and connector.writes_versioned(capability)

    def _decide(self, invoice_id: str, known: Known) -> InvoiceRecord:
        if is_unknown(known):
            fresh = self.connector.fetch_invoice(invoice_id)
            crashpoint("executor.after_fresh_read")
            if fresh is not None:
                self.apply_invoice(fresh)
        else:
            fresh = known if isinstance(known, InvoiceRecord) else None  # None: gone
            crashpoint("executor.after_fresh_read")
        if fresh is None:
            raise Skip(f"invoice {invoice_id} no longer exists at the provider")
        if fresh.status is not InvoiceStatus.OPEN or fresh.balance <= 0:
            raise Skip(
                f"invoice {invoice_id} is {fresh.status.value} now (balance {fresh.balance})"
            )
        return fresh

    def apply_invoice(self, record: InvoiceRecord) -> None:
        if self.fresh_reads is not None:
            self.fresh_reads.remember(record)
        with self.store.sessions.begin() as session:
            apply_page(session, self.org_id, Page(invoices=(record,)), now=self.now())

    def fresh_many(self, invoice_ids: list[str]) -> dict[str, InvoiceRecord]:
        """:meth:`fresh` for several invoices (one confirming re-read); closed ones left out."""
        reads = self.fresh_reads
        unconfirmed = reads.unconfirmed(invoice_ids) if reads is not None else []
        if reads is not None and unconfirmed:
            reads.confirm_group(unconfirmed, self._position)
        out: dict[str, InvoiceRecord] = {}
        for pid in invoice_ids:
            try:
                out[pid] = self.fresh(pid)
            except Skip:
                continue  # paid since planning
        return out
