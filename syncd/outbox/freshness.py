"""Fresh reads for a whole executor run: one batched read up front, exact re-reads to act.

Reading every due invoice with its own GET spends a call per action even when the invoice was
paid since planning and nothing will be written. The run therefore reads all the invoices its
due actions name up front, in the provider's batches (QuickBooks ``Id IN (...)``, Xero
``IDs=``): an invoice the batch sees closed or gone is skipped with no further call.

The freshness guarantee does not loosen: an invoice the batch saw open may be paid a moment
later, so an action that is about to rely on it reads it again (all the invoices of one
reminder email in one batched call). Reaching one read per batch plus one write per action
would need the write itself to carry the batch's version (QuickBooks' SyncToken) so that the
provider refuses a write to an invoice that changed - a connector capability, not done here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

from connectors.base import (
    Connector,
    ConnectorError,
    EntityKind,
    InvoiceRecord,
    InvoiceStatus,
    Page,
)

from ..logs import get_logger
from ..store import Store, apply_page

log = get_logger(__name__)

#: Ids per batched read (QuickBooks' IN list and Xero's IDs= both take this many comfortably).
CHUNK: Final = 100


class _Unknown:
    """The batch did not read this invoice: the caller reads it on its own."""


UNKNOWN: Final = _Unknown()


class FreshInvoices:
    def __init__(
        self, store: Store, org_id: int, connector: Connector, now: Callable[[], datetime]
    ) -> None:
        self.store, self.org_id, self.connector, self.now = store, org_id, connector, now
        self._records: dict[str, InvoiceRecord | None] = {}
        #: Provider calls made for batched reads (the benchmark counts them).
        self.calls = 0

    def load(self, invoice_ids: Sequence[str]) -> bool:
        """Read ``invoice_ids`` in batches; False (and nothing cached) if the provider failed."""
        wanted = list(dict.fromkeys(invoice_ids))
        try:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                self.absorb(self.connector.fetch_records(EntityKind.INVOICES, chunk), chunk)
                self.calls += 1
        except ConnectorError as exc:
            log.warning("batched fresh read failed; reading invoices one by one", error=str(exc))
            self._records.clear()
            return False
        return True

    def closed(self, invoice_id: str) -> InvoiceRecord | _Unknown | None:
        """What the batch saw if the invoice was closed (``None``: gone); else :data:`UNKNOWN`.

        Only "closed" is trusted from the batch: acting needs a read made just before.
        """
        if invoice_id not in self._records:
            return UNKNOWN
        record = self._records[invoice_id]
        if record is None or record.status is not InvoiceStatus.OPEN or record.balance <= 0:
            return record
        return UNKNOWN

    def reread(self, invoice_ids: Sequence[str]) -> dict[str, InvoiceRecord | None]:
        """The named invoices read fresh now, in as few calls as the provider allows.

        An id the answer neither returns nor reports deleted (a record the mapper skipped) is
        left out: the caller reads it on its own and gets the connector's error.
        """
        wanted = list(dict.fromkeys(invoice_ids))
        found: dict[str, InvoiceRecord | None] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            page = self.connector.fetch_records(EntityKind.INVOICES, chunk)
            self.calls += 1
            self.absorb(page, chunk)
            found.update({i.provider_id: i for i in page.invoices if i.provider_id in chunk})
            found.update(
                {
                    d.provider_id: None
                    for d in page.deletions
                    if d.entity is EntityKind.INVOICES and d.provider_id in chunk
                }
            )
        return found

    def absorb(self, page: Page, asked: Sequence[str]) -> None:
        for invoice in page.invoices:
            if invoice.provider_id in asked:
                self._records[invoice.provider_id] = invoice
        for gone in page.deletions:
            if gone.entity is EntityKind.INVOICES and gone.provider_id in asked:
                self._records[gone.provider_id] = None
        with self.store.sessions.begin() as session:
            apply_page(session, self.org_id, page, now=self.now())
