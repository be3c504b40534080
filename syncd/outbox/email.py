"""Reminder emails for the executor: render from the store's view of the customer and the
fresh invoices, then hand to SMTP with the hand-off recorded just before the body leaves."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connectors.base import InvoiceRecord, PermanentError, TransientError

from ..config.models import EmailSettings
from ..mail import (
    Business,
    InvoiceLine,
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailTransientError,
    Recipient,
    SmtpSender,
    TemplateSet,
    envelope_recipients,
    make_message_id,
    render_reminder,
)
from ..mail.templates import MailTemplateError
from ..store import Store
from ..store.models import Customer, OutboxAction
from ..store.queries import round_money


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class ReminderMailer:
    def __init__(
        self,
        store: Store,
        org_id: int,
        settings: EmailSettings,
        *,
        org_name: str,
        timezone: str,
        now: Callable[[], datetime],
        sender: SmtpSender | None = None,
        templates: TemplateSet | None = None,
        templates_dir: str | None = None,
    ) -> None:
        self.store, self.org_id, self.settings, self.now = store, org_id, settings, now
        self.tz = ZoneInfo(timezone)
        display_name, _ = parseaddr(settings.from_address)
        self.business = Business.from_settings(settings, name=display_name or org_name)
        self.sender = sender or SmtpSender(settings)
        self.templates = templates or TemplateSet(templates_dir)

    def _recipient(self, row: OutboxAction, fresh: dict[str, InvoiceRecord]) -> Recipient:
        with self.store.sessions() as session:
            customer = session.scalar(
                select(Customer).where(
                    Customer.org_id == self.org_id,
                    Customer.provider_id == row.customer_provider_id,
                )
            )
        email = customer.email if customer else None
        if not email:
            for record in fresh.values():
                bill = (record.raw.get("BillEmail") or {}).get("Address")
                if bill:
                    email = str(bill)
                    break
        if not email:
            raise PermanentError(f"customer {row.customer_provider_id} has no email address")
        name = customer.name if customer else row.customer_provider_id or "Customer"
        return Recipient(name=name, email=email, locale=customer.locale if customer else None)

    def __call__(
        self,
        row: OutboxAction,
        fresh: dict[str, InvoiceRecord],
        mark_handed: Callable[[str], None],
    ) -> str:
        today = self.now().astimezone(self.tz).date()
        digest = key_digest(row.idempotency_key)
        message_id = row.message_id or make_message_id(digest, self.business.domain)
        try:
            recipient = self._recipient(row, fresh)
            lines = [
                InvoiceLine(
                    number=r.number or r.provider_id,
                    issue_date=r.issue_date or r.due_date or today,
                    due_date=r.due_date or today,
                    currency=r.currency,
                    total=round_money(r.total, r.currency),
                    balance=round_money(r.balance, r.currency),
                    days_overdue=(today - (r.due_date or today)).days,
                    pay_url=r.pay_url,
                )
                for r in fresh.values()
            ]
            message = render_reminder(
                str(row.payload.get("template") or "reminder"),
                self.business,
                recipient,
                lines,
                message_id=message_id,
                now=self.now(),
                templates=self.templates,
                key_digest=digest,
            )
        except (ValueError, MailTemplateError) as exc:
            raise PermanentError(f"cannot build the reminder: {exc}") from None
        try:
            self.sender.send(
                message,
                envelope_to=envelope_recipients(self.business, recipient),
                before_data_end=lambda: mark_handed(message_id),
            )
        except MailOutcomeUnknownError:
            return message_id  # may be delivered: at most once, never retried
        except MailTransientError as exc:
            raise TransientError(f"SMTP: {exc}") from None
        except (MailPermanentError, MailError) as exc:
            raise PermanentError(f"SMTP: {exc}") from None
        return message_id
