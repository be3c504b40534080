"""Turning a reminder into a complete MIME message, deterministically.

Everything that varies between two renders of the same action comes from the
arguments: the Date is ``now`` (never the system clock) and the Message-ID is given,
so re-rendering after a crash produces the same message the first attempt would have
sent, and the copy can be matched against what the outbox recorded.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from .message_id import digest_from_message_id
from .model import Business, InvoiceLine, Recipient, parse_locale
from .templates import TemplateSet

__all__ = [
    "KEY_HEADER",
    "CurrencyTotal",
    "envelope_recipients",
    "reminder_history",
    "render_reminder",
]

#: Carries ``IdempotencyKey.digest``; lets a copy found in a mailbox be tied to its action.
KEY_HEADER = "X-Syncd-Key"
_MSG_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    amount: Decimal


def _totals(lines: Sequence[InvoiceLine]) -> list[CurrencyTotal]:
    """One total per currency, in the order currencies first appear: never summed across."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        sums[line.currency] = sums.get(line.currency, Decimal(0)) + line.balance
    return [CurrencyTotal(currency, amount) for currency, amount in sums.items()]


def reminder_history(lines: Sequence[InvoiceLine]) -> dict[str, object]:
    """What the templates may claim about earlier reminders, from those actually sent.

    ``reminded_all``: every listed invoice had at least one; ``reminded_any``: some did;
    ``reminder_count``: the fewest any listed invoice had (so "reminders", plural, is
    true of each of them).
    """
    counts = [len(line.reminders_sent) for line in lines]
    return {
        "reminded_all": bool(counts) and min(counts) > 0,
        "reminded_any": any(counts),
        "reminder_count": min(counts) if counts else 0,
    }


def to_header(recipient: Recipient) -> tuple[Address, ...]:
    """The ``To`` header: the customer's name on its first address, every further address
    from the same provider field beside it (as the provider's own emails reach them all)."""
    return (
        Address(display_name=recipient.name, addr_spec=recipient.email),
        *(Address(addr_spec=also) for also in recipient.also),
    )


def envelope_recipients(business: Business, recipient: Recipient) -> list[str]:
    """RCPT TO list: the customer's addresses, then the business's BCC copies (deduplicated)."""
    seen: list[str] = []
    for addr in (*recipient.addresses, *business.bcc):
        if addr.lower() not in (s.lower() for s in seen):
            seen.append(addr)
    return seen


def render_reminder(
    template: str,
    business: Business,
    recipient: Recipient,
    invoices: Sequence[InvoiceLine],
    *,
    message_id: str,
    now: datetime,
    templates: TemplateSet,
    key_digest: str | None = None,
    coming_up: Sequence[InvoiceLine] = (),
) -> EmailMessage:
    """Build the multipart/alternative reminder (text first, HTML preferred by clients).

    ``key_digest`` defaults to the digest inside a Message-ID made by
    :func:`~syncd.mail.message_id.make_message_id`. Invoices are listed by due date.
    ``coming_up`` (invoices not yet due) are shown in their own section and never counted
    in the totals demanded.
    Raises ``ValueError`` for unusable input and ``MailTemplateError`` for template
    problems; both are permanent.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not invoices:
        raise ValueError("a reminder lists at least one invoice")
    if not _MSG_ID.match(message_id):
        raise ValueError(f"not an RFC 5322 Message-ID: {message_id!r}")
    digest = key_digest if key_digest is not None else digest_from_message_id(message_id)
    if not digest or not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", digest):
        raise ValueError("the idempotency digest is missing or malformed")

    locale = parse_locale(recipient.locale or business.default_locale)
    lines = sorted(invoices, key=lambda line: (line.due_date, line.number))
    upcoming = sorted(coming_up, key=lambda line: (line.due_date, line.number))
    context = {
        **reminder_history(lines),
        "coming_up": upcoming,
        "business": business,
        "recipient": recipient,
        "invoices": lines,
        "count": len(lines),
        "totals": _totals(lines),
        "pay_links": any(line.pay_url for line in lines),
        "now": now,
        "today": now.date(),
        "locale": str(locale),
    }
    parts = templates.render(
        template, recipient.language or locale.language, context, locale=locale
    )

    msg = EmailMessage(policy=email.policy.default)
    msg["Subject"] = parts.subject
    msg["From"] = Address(display_name=business.name, addr_spec=business.from_address)
    msg["To"] = to_header(recipient)
    if business.reply_to:
        msg["Reply-To"] = business.reply_to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg[KEY_HEADER] = digest
    # RFC 3834: keeps vacation auto-replies away from the business's inbox.
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the body 7-bit: no dependence on the server's 8BITMIME.
    msg.set_content(parts.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(parts.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the body: set_content() clears every Content-* header already present.
    msg["Content-Language"] = parts.language
    return msg
