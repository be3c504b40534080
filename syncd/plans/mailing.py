"""Sending a plan's emails (confirmation, instalment reminders) through syncd's SMTP path,
with the same exactly-once rule as reminders: ``mark_handed`` is committed just before the
body goes to the server, so a crash after it never sends the email twice."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import PermanentError, TransientError

from ..mail import (
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailTransientError,
    envelope_recipients,
)
from ..outbox.email import ReminderMailer, key_digest
from ..store.models import OutboxAction
from .documents import PlanMessage, build_plan_message


def render_plan_email(mailer: ReminderMailer, row: OutboxAction) -> PlanMessage:
    """The exact message the executor would send for ``row`` (previews use it too)."""
    with mailer.store.sessions() as session:
        return build_plan_message(
            session,
            row,
            mailer.current_business(),
            mailer.templates,
            now=mailer.now(),
            digest=key_digest(row.idempotency_key),
            grace_days=int(row.payload.get("grace_days", 0)),
        )


def send_plan_email(
    mailer: object, row: OutboxAction, mark_handed: Callable[[str], None]
) -> tuple[str, list[str]]:
    """Send it; returns the Message-ID and the attachments' file names."""
    if not isinstance(mailer, ReminderMailer):
        raise PermanentError("no SMTP settings: cannot send payment-plan emails")
    built = render_plan_email(mailer, row)
    message_id = str(built.message["Message-ID"])
    try:
        mailer.sender.send(
            built.message,
            envelope_to=envelope_recipients(built.business, built.recipient),
            before_data_end=lambda: mark_handed(message_id),
        )
    except MailOutcomeUnknownError:
        pass  # may be delivered: at most once, never retried
    except MailTransientError as exc:
        raise TransientError(f"SMTP: {exc}") from None
    except (MailPermanentError, MailError) as exc:
        raise PermanentError(f"SMTP: {exc}") from None
    return message_id, [name for name, _ in built.attachments]
