"""Sending a plan's emails (confirmation, instalment reminders) through syncd's SMTP path,
with the same exactly-once rule as reminders: ``mark_handed`` is committed just before the
body goes to the server, so a crash after it never sends the email twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from connectors.base import PermanentError, TransientError

from ..crashpoints import crashpoint
from ..mail import (
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailTransientError,
    envelope_recipients,
)
from ..outbox.email import ReminderMailer, key_digest
from ..outbox.handlers.base import ExecContext, Handler, PreviewContext, Rendered, Skip
from ..store.models import OutboxAction, PaymentPlan
from .documents import PlanMessage, build_plan_message
from .follow import still_relevant


def render_plan_email(mailer: ReminderMailer, row: OutboxAction) -> PlanMessage:
    """The exact message the executor would send for ``row`` (previews use it too)."""
    with mailer.store.sessions() as session:
        return build_plan_message(
            session,
            row,
            mailer.current_business(),
            mailer.templates,
            now=mailer.now(),
            today=mailer.now().astimezone(mailer.tz).date(),
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


class PlanEmailHandler(Handler):
    """A plan's email through syncd's SMTP: the confirmation or an instalment's reminder.
    A plan that ended since the email was queued is skipped (no reminder for a broken or
    completed plan; no confirmation of a cancelled one)."""

    checks_invoice = False
    previews_message = True

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        with ex.store.sessions() as session:
            plan = session.get(PaymentPlan, int(row.payload["plan_id"]))
            status = plan.status if plan is not None else "gone"
            if plan is not None and status == "active" and row.kind == "plan_reminder":
                _check_relevant(plan, row, _local_today(ex))
        if status != "active":
            raise Skip(f"payment plan {row.payload['plan_id']} is {status}")
        crashpoint("executor.before_smtp")

        def mark_handed(message_id: str) -> None:
            with ex.store.sessions.begin() as session:
                live = session.get(OutboxAction, row.id, with_for_update=True)
                assert live is not None
                live.message_id, live.handed_at = message_id, ex.now()
            crashpoint("executor.after_handoff_marked")

        message_id, files = send_plan_email(ex.send_email, row, mark_handed)
        crashpoint("executor.after_smtp")
        return {"message_id": message_id, "result": {"attachments": files}}

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        from ..daemon.runner import default_mailer

        try:
            mailer = default_mailer(pv.store, pv.config, pv.org_name, pv.org_id, pv.clock)
            if not isinstance(mailer, ReminderMailer):  # pragma: no cover - another mailer
                raise PermanentError("the configured mailer cannot be previewed")
            built = render_plan_email(mailer, row)
        except (PermanentError, MailError) as exc:
            out.problem = f"the executor would fail: {exc}"
            return
        out.message = built.message
        out.envelope = tuple(envelope_recipients(built.business, built.recipient))
        out.files = list(built.attachments)


def _local_today(ex: ExecContext) -> date:
    """The org's day now (the mailer knows the org's time zone)."""
    mailer = ex.send_email
    if isinstance(mailer, ReminderMailer):
        return mailer.now().astimezone(mailer.tz).date()
    return ex.now().date()  # no SMTP: the send fails anyway


def _check_relevant(plan: PaymentPlan, row: OutboxAction, today: date) -> None:
    """Skip an instalment reminder that no longer holds when it is about to go out (it may
    have waited for review or an address since it was queued): never about an instalment
    paid meanwhile, never a "due today" on another day or a "coming up" from the due day."""
    number, kind = int(row.payload["instalment"]), str(row.payload["reminder"])
    found = next((i for i in plan.instalments if i.number == number), None)
    if found is None:
        raise Skip(f"payment plan {plan.id} has no instalment {number}")
    if still_relevant(kind, found.due_date, found.met_on, today):
        return
    if found.met_on is not None:
        raise Skip(f"instalment {number} of payment plan {plan.id} was paid on {found.met_on}")
    raise Skip(
        f"the {kind} reminder of instalment {number} (due {found.due_date}) no longer holds "
        f"on {today}"
    )
