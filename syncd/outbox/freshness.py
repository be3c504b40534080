"""Fresh reads for a whole executor run: one batched read up front, small confirmed groups.

Reading every due invoice with its own GET spends a call per action. The run therefore reads
all the invoices its due actions name up front, in the provider's batches (QuickBooks
``Id IN (...)``, Xero ``IDs=``): an invoice the batch sees closed or gone is skipped with no
further call.

The freshness guarantee does not loosen - an invoice paid after the batch read is never acted
on - and is kept in one of two ways:

* **The write proves it.** Where the provider version-checks a write (QuickBooks' SyncToken,
  which a payment changes), the write carries the batch's version and is refused if the
  invoice changed since; the executor then reads that one invoice and decides again
  (``connectors.base.WritesFromRead``, ``StaleWriteError``). No extra call when nothing changed.
* **A confirming re-read just before.** Actions nothing can version-check (SMTP emails,
  QuickBooks' own invoice send, every Xero write) rely on a re-read made at most
  :data:`GROUP_SECONDS` before they act. One batched call re-reads the invoices of the next
  :data:`GROUP_ACTIONS` such actions (at most :data:`CHUNK` invoices), so the cost is one call
  per group, not per action. An invoice whose confirmation is older than the window is
  re-read again (with the next group) before anything relies on it.

The window between the confirming read and the action is the same kind of gap a per-action
read always had (read, then write), bounded by seconds instead of one request's latency; a
payment inside it is the race no client-side check can close for writes without a lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from ..store.models import OutboxAction

log = get_logger(__name__)

#: Ids per batched read (QuickBooks' IN list and Xero's IDs= both take this many comfortably).
CHUNK: Final = 100
#: Actions whose invoices one confirming re-read covers.
GROUP_ACTIONS: Final = 25
#: How long a confirming re-read licenses acting on what it saw (real seconds).
GROUP_SECONDS: Final = 5.0


class Unknown:
    """The batch did not read this invoice: the caller reads it on its own."""


UNKNOWN: Final = Unknown()

#: What the run knows of an invoice: its record, ``None`` (gone), or :data:`UNKNOWN`.
Known = InvoiceRecord | Unknown | None


def is_unknown(known: Known) -> TypeGuard[Unknown]:
    """True when nothing this run read answers for the invoice (it must be read)."""
    return isinstance(known, Unknown)


def is_closed(record: InvoiceRecord | None) -> bool:
    return record is None or record.status is not InvoiceStatus.OPEN or record.balance <= 0


class FreshInvoices:
    def __init__(
        self,
        store: Store,
        org_id: int,
        connector: Connector,
        now: Callable[[], datetime],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.org_id, self.connector, self.now = store, org_id, connector, now
        self.monotonic = monotonic
        self._records: dict[str, InvoiceRecord | None] = {}
        #: invoice id -> when (monotonic) its last confirming re-read started
        self._confirmed: dict[str, float] = {}
        #: Provider calls made for batched and confirming reads (the benchmark counts them).
        self.calls = 0
        #: Per due action, in run order: the invoices it will need confirmed before acting.
        self._needs: list[list[str]] = []

    def expect(self, needs: list[list[str]]) -> None:
        """The run's due actions, in order, by the invoices each needs confirmed (empty when
        its write is version-checked): a confirming re-read takes the next few along."""
        self._needs = needs

    def current(self, invoice_id: str, position: int) -> Known:
        """What licenses acting on the invoice now for the action at ``position``: the batch
        saw it closed, or a re-read confirmed it within the window; else one re-read now
        (with the next actions' invoices). :data:`UNKNOWN` if that re-read missed it."""
        known = self.closed(invoice_id)
        if is_unknown(known):
            known = self.confirmed(invoice_id)
        if is_unknown(known):
            self.confirm_group([invoice_id], position)
            known = self.confirmed(invoice_id)
        return known

    def confirm_group(self, wanted: list[str], position: int) -> None:
        """One batched re-read: ``wanted`` plus the invoices the next few actions will need."""
        ids, actions = list(wanted), 1
        for needs in self._needs[position + 1 :]:
            if actions >= GROUP_ACTIONS or len(set(ids) | set(needs)) > CHUNK:
                break
            if needs:
                ids += needs
                actions += 1
        self.confirm([i for i in ids if is_unknown(self.confirmed(i))])

    def unconfirmed(self, invoice_ids: Sequence[str]) -> list[str]:
        """Those neither known closed nor confirmed within the window."""
        return [
            i for i in invoice_ids if is_unknown(self.closed(i)) and is_unknown(self.confirmed(i))
        ]

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

    def closed(self, invoice_id: str) -> Known:
        """What the batch saw if the invoice was closed (``None``: gone); else :data:`UNKNOWN`."""
        if invoice_id not in self._records:
            return UNKNOWN
        record = self._records[invoice_id]
        return record if is_closed(record) else UNKNOWN

    def seen(self, invoice_id: str) -> Known:
        """The latest read of the invoice this run made, however old (for version-checked
        writes, which the provider refuses if the invoice changed since)."""
        return self._records.get(invoice_id, UNKNOWN)

    def confirmed(self, invoice_id: str) -> Known:
        """The invoice as re-read within the last :data:`GROUP_SECONDS`; else :data:`UNKNOWN`."""
        stamp = self._confirmed.get(invoice_id)
        if stamp is None or self.monotonic() - stamp > GROUP_SECONDS:
            return UNKNOWN
        return self._records.get(invoice_id, UNKNOWN)

    def remember(self, record: InvoiceRecord) -> None:
        """A read or a write's answer made for one action: the newest version known."""
        self._records[record.provider_id] = record

    def confirm(self, invoice_ids: Sequence[str]) -> None:
        """Re-read the named invoices now (one call per :data:`CHUNK`); the window of each
        starts when its call was sent. Invoices already known closed are not asked for."""
        wanted = [i for i in dict.fromkeys(invoice_ids) if is_unknown(self.closed(i))]
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            stamp = self.monotonic()
            page = self.connector.fetch_records(EntityKind.INVOICES, chunk)
            self.calls += 1
            for invoice_id in self.absorb(page, chunk):
                self._confirmed[invoice_id] = stamp

    def absorb(self, page: Page, asked: Sequence[str]) -> set[str]:
        """Keep and store what a read returned; the ids it answered for."""
        answered: set[str] = set()
        for invoice in page.invoices:
            if invoice.provider_id in asked:
                self._records[invoice.provider_id] = invoice
                answered.add(invoice.provider_id)
        for gone in page.deletions:
            if gone.entity is EntityKind.INVOICES and gone.provider_id in asked:
                self._records[gone.provider_id] = None
                answered.add(gone.provider_id)
        with self.store.sessions.begin() as session:
            apply_page(session, self.org_id, page, now=self.now())
        return answered


def invoices_named(session: Session, action_ids: list[int]) -> dict[int, tuple[str, list[str]]]:
    """Each action's kind and the provider invoice ids it relies on (an email names several)."""
    named: dict[int, tuple[str, list[str]]] = {}
    for start in range(0, len(action_ids), 500):
        rows = session.execute(
            select(
                OutboxAction.id,
                OutboxAction.kind,
                OutboxAction.invoice_provider_id,
                OutboxAction.payload,
            ).where(OutboxAction.id.in_(action_ids[start : start + 500]))
        )
        for action_id, kind, invoice_id, payload in rows:
            if kind == "email":
                ids = [str(i["provider_id"]) for i in (payload or {}).get("invoices") or []]
            else:
                ids = [invoice_id] if invoice_id is not None else []
            named[action_id] = (kind, ids)
    return named
