"""The daily digest: one email a day per org to ``[email] digest_to`` listing what awaits
review, so nothing sits in the queue unseen.

At most once per org and local day, by the executor's own rule: an audit entry
(``review.digest_handed``, subject ``digest:<org>:<day>``) is committed just before the body
goes to the SMTP server; a digest whose entry exists is never sent again that day, and one
that failed before that point is tried again at the next pass. Nothing is sent before
``[email] digest_hour`` (local), nor on a day nothing awaits review.
"""

from __future__ import annotations

import email.policy
import hashlib
from collections.abc import Callable
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..logs import get_logger
from ..mail import (
    Business,
    MailError,
    MailOutcomeUnknownError,
    MailTransientError,
    SmtpSender,
    make_message_id,
)
from ..outbox.handlers.registry import handler as registered_handler
from ..store import Store
from ..store.audit import record
from ..store.models import AuditEntry
from .queue import Pending, Selection, pending
from .render import render_action

log = get_logger(__name__)
EVENT = "review.digest_handed"


def digest_subject(org_name: str, day: date) -> str:
    return f"digest:{org_name}:{day.isoformat()}"


def _already(store: Store, org_id: int, subject: str) -> bool:
    with store.sessions() as session:
        return (
            session.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.org_id == org_id,
                    AuditEntry.event == EVENT,
                    AuditEntry.subject_id == subject,
                )
            )
            is not None
        )


def _body(
    store: Store, config: LoadedConfig, org_name: str, items: list[Pending], clock: Clock
) -> str:
    lines = [f"{len(items)} action(s) of {org_name} await your review.", ""]
    customer: str | None = None
    for p in items:
        if p.customer != customer:
            customer = p.customer
            lines += ["", f"{p.customer_name or '?'} ({p.customer})"]
        amount, currency = p.amount()
        numbers = ", ".join(str(i.get("number") or i.get("provider_id")) for i in p.invoices)
        money = f" {amount} {currency}" if amount is not None else ""
        lines.append(f"  #{p.row.id} {p.row.kind} on {numbers}{money}")
        handler = registered_handler(p.row.kind)
        if handler is not None and handler.previews_message:
            shown = render_action(store, config, org_name, p.row.org_id, p.row, clock)
            lines.append(f"    subject: {shown.subject or shown.problem}")
        lines.append(f"    held: {p.row.review_reason}")
    lines += [
        "",
        "See them:     syncd review --org " + org_name,
        "Approve:      syncd review approve ID... | --customer C | --kind K | --all",
        "Skip:         syncd review skip ... --reason TEXT",
    ]
    return "\n".join(lines) + "\n"


def build_digest(
    config: LoadedConfig, org_name: str, body: str, count: int, day: date, now: datetime
) -> EmailMessage:
    settings = config.settings.email
    assert settings.digest_to is not None
    business = Business.from_settings(settings, name=org_name)
    key = hashlib.sha256(digest_subject(org_name, day).encode()).hexdigest()[:32]
    msg = EmailMessage(policy=email.policy.default)
    msg["Subject"] = f"syncd: {count} action(s) await review ({org_name}, {day.isoformat()})"
    msg["From"] = Address(display_name="syncd", addr_spec=business.from_address)
    msg["To"] = settings.digest_to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_message_id(key, business.domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg


def send_digest_if_due(
    store: Store,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    clock: Clock,
    *,
    sender: Callable[[], SmtpSender] | None = None,
) -> bool:
    """Send today's digest for the org if it is due; True when one was handed to SMTP."""
    settings = config.settings.email
    if not settings.digest_to:
        return False
    now = clock.now()
    local = now.astimezone(ZoneInfo(config.settings.org(org_name).timezone))
    if local.hour < settings.digest_hour:
        return False
    subject = digest_subject(org_name, local.date())
    if _already(store, org_id, subject):
        return False
    with store.sessions() as session:
        items = pending(session, Selection(org=org_name))
        for item in items:
            session.expunge(item.row)
    if not items:
        return False
    body = _body(store, config, org_name, items, clock)
    message = build_digest(config, org_name, body, len(items), local.date(), now)

    def handed() -> None:
        with store.sessions.begin() as session:
            record(
                session,
                at=clock.now(),
                event=EVENT,
                org_id=org_id,
                subject_type="digest",
                subject_id=subject,
                to=settings.digest_to,
                actions=len(items),
            )

    try:
        (sender or (lambda: SmtpSender(settings)))().send(
            message, envelope_to=[settings.digest_to], before_data_end=handed
        )
    except MailOutcomeUnknownError:
        return True  # handed over: may be delivered, never resent today
    except MailTransientError as exc:
        log.warning("review digest not sent; will retry", org=org_name, error=str(exc))
        return False
    except MailError as exc:
        log.error("review digest failed", org=org_name, error=str(exc))
        return False
    log.info("review digest sent", org=org_name, actions=len(items))
    return True
