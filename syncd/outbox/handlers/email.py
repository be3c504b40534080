"""``email``: a (possibly grouped) reminder email through syncd's SMTP.

Every invoice is read fresh first; paid ones are left out, and if none is left the
action is skipped. The mailer records the hand-off (``handed_at``) just before the body
goes to the SMTP server: after a crash past that point the executor closes the row as
done-unconfirmed instead of sending it twice.
"""

from __future__ import annotations

from typing import Any

from connectors.base import InvoiceRecord, PermanentError

from ...crashpoints import crashpoint
from ...store.models import OutboxAction
from .base import ExecContext, Handler, PreviewContext, Rendered, Skip
from .registry import register


def invoice_ids(payload: dict[str, Any]) -> list[str]:
    items = payload.get("invoices") or []
    if items:
        return [str(i["provider_id"]) for i in items]
    single = payload.get("invoice") or {}
    return [str(single["provider_id"])] if single.get("provider_id") else []


class EmailHandler(Handler):
    kind = "email"
    checks_invoice = False
    previews_message = True

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        if ex.send_email is None:
            raise PermanentError("no SMTP settings: cannot send reminder emails")
        items = row.payload.get("invoices") or []
        fresh: dict[str, InvoiceRecord] = {}
        for item in items:
            try:
                fresh[item["provider_id"]] = ex.fresh(item["provider_id"])
            except Skip:
                continue  # paid since planning: left out of the email
        if not fresh:
            raise Skip("every invoice in this reminder was paid or closed since planning")
        crashpoint("executor.before_smtp")

        def mark_handed(message_id: str) -> None:
            with ex.store.sessions.begin() as session:
                live = session.get(OutboxAction, row.id, with_for_update=True)
                assert live is not None
                live.message_id, live.handed_at = message_id, ex.now()
            crashpoint("executor.after_handoff_marked")

        message_id = ex.send_email(row, fresh, mark_handed)
        crashpoint("executor.after_smtp")
        return {"message_id": message_id, "result": {"invoices": sorted(fresh)}}

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        from ...review.render import render_email

        render_email(pv, row, out)


HANDLER = register(EmailHandler())
