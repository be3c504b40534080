"""What the executor would do with one outbox action, without doing it.

Emails go through the executor's own mailer (``default_mailer``: the same recipient lookup,
render context, templates and message headers) with a sender that keeps the message instead
of transmitting it; notes and fee lines come from ``syncd.outbox.writes``, which the executor
also calls. The invoices are the store's (as of the last sync), where the executor re-reads
them from the provider: invoices closed in the store are left out, as the executor would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from connectors.base import InvoiceRecord, InvoiceStatus, LateFee, PermanentError

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..daemon.runner import default_mailer
from ..letters.preview import preview_letter
from ..mail import MailError, SmtpSender
from ..mail.smtp import SendResult
from ..outbox.email import ReminderMailer
from ..outbox.writes import FEE_KINDS, fee_line, note_text
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


@dataclass
class Rendered:
    """The executor's work for one action: at most one of message / note / fee is set."""

    kind: str
    message: EmailMessage | None = None
    envelope: tuple[str, ...] = ()
    note: str | None = None
    fee: LateFee | None = None
    #: Set when the executor would not act (or fail): why.
    problem: str | None = None
    detail: str | None = None

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


def invoice_ids(payload: dict[str, Any]) -> list[str]:
    items = payload.get("invoices") or []
    if items:
        return [str(i["provider_id"]) for i in items]
    single = payload.get("invoice") or {}
    return [str(single["provider_id"])] if single.get("provider_id") else []


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
    out = Rendered(row.kind)
    payload = row.payload
    if row.kind == "note":
        out.note = note_text(payload)
    elif row.kind in FEE_KINDS:
        out.fee = fee_line(row.kind, payload)
    elif row.kind == "provider_email":
        out.detail = "the provider sends its own invoice email to the customer's address"
    elif row.kind == "email":
        _render_email(store, config, org_name, org_id, row, clock, out)
    elif row.kind == "escalate" and payload.get("letter"):
        out.detail, out.problem = preview_letter(store, org_id, org_name, row, clock.now())
    else:
        out.detail = f"{row.kind}: recorded in syncd only (nothing is sent or written)"
    if (
        row.kind != "email"
        and row.invoice_provider_id
        and not stored_records(store, org_id, [row.invoice_provider_id])
    ):
        out.problem = f"invoice {row.invoice_provider_id} is closed: the executor would skip it"
    return out


def _render_email(
    store: Store,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    row: OutboxAction,
    clock: Clock,
    out: Rendered,
) -> None:
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
