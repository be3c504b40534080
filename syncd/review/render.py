"""What the executor would do with one outbox action, without doing it.

Each kind's registered handler (``syncd.outbox.handlers``) renders its own action.
Emails go through the executor's own mailer (``default_mailer``: the same recipient lookup,
render context, templates and message headers) with a sender that keeps the message instead
of transmitting it; notes and fee lines come from ``syncd.outbox.writes``, which the executor
also calls. The invoices are the store's (as of the last sync), where the executor re-reads
them from the provider: invoices closed in the store are left out, as the executor would.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from connectors.base import InvoiceRecord, InvoiceStatus, PermanentError

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..daemon.runner import default_mailer
from ..mail import MailError, SmtpSender
from ..mail.smtp import SendResult
from ..outbox.email import ReminderMailer
from ..outbox.handlers.base import PreviewContext
from ..outbox.handlers.base import Rendered as Rendered
from ..outbox.handlers.email import invoice_ids
from ..outbox.handlers.registry import handler as registered_handler
from ..store import Store
from ..store.models import Invoice, OutboxAction


class _Keep(SmtpSender):
    """Keeps the message it is asked to send; nothing is transmitted."""

    kept: EmailMessage | None = None
    envelope: tuple[str, ...] = ()

    def send(
        self,
        message: EmailMessage,
        *,
        envelope_to: Sequence[str],
        before_data_end: Any = None,
    ) -> SendResult:
        self.kept, self.envelope = message, tuple(envelope_to)
        return SendResult(250, "kept for preview", tuple(envelope_to), None, "preview")


def stored_records(store: Store, org_id: int, ids: list[str]) -> dict[str, InvoiceRecord]:
    """The invoices as last synced, open ones only (what the executor's fresh read keeps)."""
    with store.sessions() as session:
        rows = session.scalars(
            select(Invoice).where(Invoice.org_id == org_id, Invoice.provider_id.in_(ids))
        ).all()
        found = {
            r.provider_id: InvoiceRecord(
                provider_id=r.provider_id,
                number=r.number,
                customer_provider_id=r.customer_provider_id,
                issue_date=r.issue_date,
                due_date=r.due_date,
                currency=r.currency,
                total=r.total,
                balance=r.balance,
                status=InvoiceStatus(r.status),
                updated_at=r.provider_updated_at,
                version=r.provider_version,
                pay_url=r.pay_url,
                raw=dict(r.raw or {}),
            )
            for r in rows
        }
    return {
        i: found[i]
        for i in ids
        if i in found and found[i].status is InvoiceStatus.OPEN and found[i].balance > 0
    }


def render_action(
    store: Store,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    row: OutboxAction,
    clock: Clock,
) -> Rendered:
    """The kind's registered handler renders it (``syncd.outbox.handlers``)."""
    out = Rendered(row.kind)
    handler = registered_handler(row.kind)
    if handler is None:
        out.problem = f"unknown action kind {row.kind!r}: the executor would fail"
        return out
    handler.preview(PreviewContext(store, config, org_name, org_id, clock), row, out)
    if (
        handler.checks_invoice
        and row.invoice_provider_id
        and not stored_records(store, org_id, [row.invoice_provider_id])
    ):
        out.problem = f"invoice {row.invoice_provider_id} is closed: the executor would skip it"
    return out


def render_email(pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
    """The email exactly as the executor's mailer would build it, kept instead of sent."""
    store, config, org_name, org_id, clock = pv.store, pv.config, pv.org_name, pv.org_id, pv.clock
    fresh = stored_records(store, org_id, invoice_ids(row.payload))
    if not fresh:
        out.problem = "every invoice in this reminder is closed: the executor would skip it"
        return
    try:
        mailer = default_mailer(store, config, org_name, org_id, clock)
        keep = _Keep(config.settings.email)
    except MailError as exc:
        out.problem = f"the executor would fail: {exc}"
        return
    if not isinstance(mailer, ReminderMailer):  # pragma: no cover - a different mailer
        out.problem = "the configured mailer cannot be previewed"
        return
    mailer.sender = keep
    try:
        mailer(row, fresh, lambda _message_id: None)
    except PermanentError as exc:
        out.problem = f"the executor would fail: {exc}"
        return
    out.message, out.envelope = keep.kept, keep.envelope
