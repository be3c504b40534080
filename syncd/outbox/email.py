"""Reminder emails for the executor: render from the store's view of the customer and the
fresh invoices, then hand to SMTP with the hand-off recorded just before the body leaves."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import InvoiceRecord, PermanentError, TransientError

from ..company import stored_company
from ..config.models import EmailSettings
from ..letters.mailing import attach_letter, keep_sent
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
from ..mail.model import customer_locale, locale_for_country
from ..mail.templates import MailTemplateError
from ..review.address import NoUsableAddress, bill_emails, bill_field, email_addresses
from ..store import Store
from ..store.models import Customer, Invoice, OutboxAction, OutboxStatus
from ..store.queries import round_money


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


#: Outbox kinds that put a reminder in front of the customer.
REMINDER_KINDS = ("email", "provider_email")


def _sent_invoices(row: OutboxAction) -> list[str]:
    """The invoices a done reminder really carried: the executor records the ones still open
    at send time; older rows fall back to what was planned."""
    result = row.result or {}
    listed = result.get("invoices") if isinstance(result, dict) else None
    if isinstance(listed, list) and listed:
        return [str(i) for i in listed]
    planned = [str(i["provider_id"]) for i in row.payload.get("invoices") or [] if i]
    if planned:
        return planned
    return [row.invoice_provider_id] if row.invoice_provider_id else []


def reminders_sent(
    session: Session, org_id: int, customer_id: str | None, tz: ZoneInfo, *, exclude: int
) -> dict[str, tuple[date, ...]]:
    """Invoice id -> the local days a reminder about it actually went out (done email and
    provider-email actions only), oldest first. Templates word their history from this."""
    stmt = select(OutboxAction).where(
        OutboxAction.org_id == org_id,
        OutboxAction.kind.in_(REMINDER_KINDS),
        OutboxAction.status == OutboxStatus.DONE.value,
        OutboxAction.id != exclude,
    )
    if customer_id is not None:
        stmt = stmt.where(OutboxAction.customer_provider_id == customer_id)
    days: dict[str, set[date]] = defaultdict(set)
    for done in session.scalars(stmt):
        when = (done.handed_at or done.updated_at).astimezone(tz).date()
        for invoice_id in _sent_invoices(done):
            days[invoice_id].add(when)
    return {k: tuple(sorted(v)) for k, v in days.items()}


def _coming_up(
    session: Session, org_id: int, items: Iterable[dict[str, Any]], today: date
) -> list[InvoiceLine]:
    """Invoices not yet due, from the store (as synced): shown apart, never demanded."""
    ids = [str(i["provider_id"]) for i in items if i and i.get("provider_id")]
    if not ids:
        return []
    rows = session.scalars(
        select(Invoice).where(Invoice.org_id == org_id, Invoice.provider_id.in_(ids))
    )
    return [
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
        for r in rows
        if r.status == "open" and r.balance > 0 and r.due_date is not None and r.due_date > today
    ]


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
        self.org_name = org_name
        display_name, _ = parseaddr(settings.from_address)
        self._fallback_name = display_name or org_name
        self.business = Business.from_settings(settings, name=self._fallback_name)
        self.sender = sender or SmtpSender(settings)
        self.templates = templates or TemplateSet(templates_dir)

    def current_business(self) -> Business:
        """The sender as the provider names the business (cached with the org by sync), so
        From and the signature read "Acme Widgets Ltd" rather than the config's "Accounts";
        the config's display name (else the org name) only until the provider has said.
        The default locale follows the business's country."""
        with self.store.sessions() as session:
            company = stored_company(session, self.org_id)
        if company is None:
            return self.business
        base = Business.from_settings(
            self.settings,
            name=self._fallback_name,
            default_locale=locale_for_country(company.country) or "en_GB",
        )
        return Business(
            name=company.name,
            from_address=base.from_address,
            reply_to=base.reply_to,
            bcc=base.bcc,
            default_locale=base.default_locale,
        )

    def _recipient(
        self, row: OutboxAction, fresh: dict[str, InvoiceRecord], default_locale: str = "en_GB"
    ) -> Recipient:
        with self.store.sessions() as session:
            customer = session.scalar(
                select(Customer).where(
                    Customer.org_id == self.org_id,
                    Customer.provider_id == row.customer_provider_id,
                )
            )
        # The customer's own addresses, else those QuickBooks bills the invoices to: the same
        # rule that decides whether the action is held for a missing address.
        own = customer.email if customer else None
        addresses = email_addresses(own) or next(
            (found for record in fresh.values() if (found := bill_emails(record.raw))), []
        )
        if not addresses:
            billed = (bill_field(record.raw) for record in fresh.values())
            raise NoUsableAddress(row.customer_provider_id or "", own, billed)
        name = customer.name if customer else row.customer_provider_id or "Customer"
        locale = customer_locale(
            customer.locale if customer else None,
            customer.country if customer else None,
            default_locale,
        )
        return Recipient(name=name, email=addresses[0], locale=locale, also=tuple(addresses[1:]))

    def build(
        self, row: OutboxAction, fresh: dict[str, InvoiceRecord]
    ) -> tuple[EmailMessage, Business, Recipient]:
        """The exact message the executor would send for ``row`` (previews use this too).

        Raises ``PermanentError`` when no message can be built (no address, bad data)."""
        today = self.now().astimezone(self.tz).date()
        digest = key_digest(row.idempotency_key)
        business = self.current_business()
        message_id = row.message_id or make_message_id(digest, business.domain)
        try:
            recipient = self._recipient(row, fresh, business.default_locale)
            with self.store.sessions() as session:
                history = reminders_sent(
                    session, self.org_id, row.customer_provider_id, self.tz, exclude=row.id
                )
                coming_up = _coming_up(
                    session, self.org_id, row.payload.get("coming_up") or [], today
                )
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
                    reminders_sent=history.get(r.provider_id, ()),
                )
                for r in fresh.values()
            ]
            message = render_reminder(
                str(row.payload.get("template") or "reminder"),
                business,
                recipient,
                lines,
                message_id=message_id,
                now=self.now(),
                templates=self.templates,
                key_digest=digest,
                coming_up=[c for c in coming_up if c.number not in {ln.number for ln in lines}],
            )
        except (ValueError, MailTemplateError) as exc:
            raise PermanentError(f"cannot build the reminder: {exc}") from None
        attach_letter(self.store, message, row)
        return message, business, recipient

    def __call__(
        self,
        row: OutboxAction,
        fresh: dict[str, InvoiceRecord],
        mark_handed: Callable[[str], None],
    ) -> str:
        message, business, recipient = self.build(row, fresh)
        message_id = str(message["Message-ID"])

        def handed(sent: EmailMessage) -> None:
            # The message as it goes, kept for the case file, then the hand-off mark.
            keep_sent(self.store, self.org_id, row, sent, self.now())
            mark_handed(message_id)

        try:
            self.sender.send(
                message,
                envelope_to=envelope_recipients(business, recipient),
                before_data_end=lambda: handed(message),
            )
        except MailOutcomeUnknownError:
            return message_id  # may be delivered: at most once, never retried
        except MailTransientError as exc:
            raise TransientError(f"SMTP: {exc}") from None
        except (MailPermanentError, MailError) as exc:
            raise PermanentError(f"SMTP: {exc}") from None
        return message_id
