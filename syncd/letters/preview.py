"""``syncd preview`` of an escalation that carries a letter: the letter as the executor
would make it from the store's current view (the executor re-reads the invoices first),
saved as a PDF under ``previews/`` in the letters folder, and its text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..store import Store
from ..store.models import OutboxAction
from .handler import renderer_for
from .produce import draft_letter, existing_letter, letter_summary
from .render import LetterTemplateError
from .spec import LetterSpec
from .statement import StatementError


def preview_letter(
    store: Store, org_id: int, org_name: str, row: OutboxAction, now: datetime
) -> tuple[str, str | None]:
    """(what the preview shows, a problem if the executor could not make the letter)."""
    cfg = dict(row.payload["letter"])
    with store.sessions() as session:
        made = existing_letter(session, org_id, row.idempotency_key)
        if made is not None:
            info = letter_summary(made)
            return (f"letter {info['id']} already made ({info['template']}): {made.path}\n", None)
        spec = LetterSpec.from_dict(cfg)
        renderer = renderer_for(cfg)
        today = now.astimezone(ZoneInfo(str(cfg.get("timezone") or "UTC"))).date()
        try:
            draft = draft_letter(
                session,
                org_id,
                org_name,
                str(row.customer_provider_id),
                spec,
                action_key=row.idempotency_key,
                today=today,
                renderer=renderer,
                is_business=cfg.get("debtor_is_business"),
                reply_email=cfg.get("reply_email"),
            )
            pdf = renderer.pdf(
                draft.html, title="preview", author=draft.statement.business.name, created=now
            )
        except (StatementError, LetterTemplateError) as exc:
            return "", f"the letter cannot be made: {exc}"
    path = Path(cfg["folder"]) / "previews" / f"{draft.reference}-{draft.template}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    how = ", ".join(
        w for w, on in (("by email", spec.attach_to_email), ("by post", spec.by_post)) if on
    )
    head = (
        f"letter: {draft.template} ({how}), dated {draft.dated}, pay by {draft.pay_by}, "
        f"total {draft.statement.total} {draft.statement.currency}\npreview PDF: {path}\n"
    )
    if draft.hold:
        head += f"held: {draft.hold}\n"
    return head + "\n" + draft.text, None
