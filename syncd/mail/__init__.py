"""Reminder emails: rendering (Jinja2 + Babel) and SMTP delivery with an exactly-once hook.

Typical use by the executor::

    templates = TemplateSet(settings.email.templates_dir)   # resolved path, once
    sender = SmtpSender(settings.email)                       # once
    business = Business.from_settings(settings.email, name="Acme Ltd")
    message_id = make_message_id(action.key.digest, business.domain)
    message = render_reminder(action.template, business, recipient, lines,
                              message_id=message_id, now=clock.now(), templates=templates)
    sender.send(message, envelope_to=envelope_recipients(business, recipient),
                before_data_end=record_handed_to_smtp)
"""

from .message_id import digest_from_message_id, make_message_id
from .model import Business, InvoiceLine, Recipient
from .render import KEY_HEADER, CurrencyTotal, envelope_recipients, render_reminder
from .smtp import (
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailSecurityError,
    MailTransientError,
    SendResult,
    SmtpSender,
    is_loopback_host,
)
from .templates import FALLBACK_LANGUAGE, MailTemplateError, RenderedParts, TemplateSet

__all__ = [
    "FALLBACK_LANGUAGE",
    "KEY_HEADER",
    "Business",
    "CurrencyTotal",
    "InvoiceLine",
    "MailError",
    "MailOutcomeUnknownError",
    "MailPermanentError",
    "MailSecurityError",
    "MailTemplateError",
    "MailTransientError",
    "Recipient",
    "RenderedParts",
    "SendResult",
    "SmtpSender",
    "TemplateSet",
    "digest_from_message_id",
    "envelope_recipients",
    "is_loopback_host",
    "make_message_id",
    "render_reminder",
]
