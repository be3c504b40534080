"""The executor's part of an escalation that carries a letter.

Order, each step safe to repeat after a crash: re-read every invoice the letter will list
(a paid one drops out; the escalating one paid means no letter at all); make the letter
once (its row, keyed by the action, commits with its audit entry and, when the policy
says so, the email that carries it, queued through the outbox under its own key); then
note the letter on each invoice at the provider under per-invoice idempotency keys.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector, InvoiceRecord, PermanentError

from ..crashpoints import crashpoint
from ..outbox.queue import enqueue
from ..store import Store
from ..store.ladder import Letter
from ..store.models import Invoice, Org, OutboxAction
from ..store.queries import round_money
from .produce import draft_letter, existing_letter, note_for, save_letter
from .render import LetterRenderer, LetterTemplateError
from .spec import LetterSpec
from .statement import StatementError

#: The email template that carries a letter (``syncd/mail/templates/demand-letter``).
LETTER_EMAIL_TEMPLATE = "demand-letter"


class Skipped(Exception):
    """The letter no longer applies (the executor closes the action as skipped)."""


def renderer_for(letter: dict[str, Any]) -> LetterRenderer:
    return LetterRenderer(letter.get("templates_dir"), font_dir=letter.get("font_dir"))


def _open_ids(store: Store, org_id: int, customer: str) -> list[str]:
    """The customer's open invoices: the letter lists the overdue ones and syncd's charge
    invoices, so each is read fresh first."""
    with store.sessions() as session:
        return list(
            session.scalars(
                select(Invoice.provider_id).where(
                    Invoice.org_id == org_id,
                    Invoice.customer_provider_id == customer,
                    Invoice.status == "open",
                    Invoice.balance > 0,
                )
            )
        )


def execute_letter(
    store: Store,
    org_id: int,
    connector: Connector,
    row: OutboxAction,
    *,
    now: datetime,
    fresh: Callable[[str], InvoiceRecord],
    is_skip: Callable[[Exception], bool],
) -> dict[str, Any]:
    """Produce, queue and note the letter of ``row``; ``fresh`` re-reads one invoice and
    raises the executor's skip when it closed (``is_skip`` recognises it)."""
    payload = row.payload
    letter_cfg = dict(payload["letter"])
    spec = LetterSpec.from_dict(letter_cfg)
    customer = row.customer_provider_id
    if customer is None or row.invoice_provider_id is None:
        raise PermanentError("a letter needs the escalating invoice and its customer")
    tz = ZoneInfo(str(letter_cfg.get("timezone") or "UTC"))
    today = now.astimezone(tz).date()
    anchor = fresh(row.invoice_provider_id)  # the escalating invoice must still be open
    for invoice_id in _open_ids(store, org_id, customer):
        if invoice_id != row.invoice_provider_id:
            try:
                fresh(invoice_id)
            except Exception as exc:
                if not is_skip(exc):
                    raise
    renderer = renderer_for(letter_cfg)
    with store.sessions.begin() as session:
        org = session.get(Org, org_id)
        org_name = org.name if org is not None else str(org_id)
        current = covering_letter(session, org_id, row, today)
        if current is not None:
            return {
                "result": {
                    "detail": f"already in letter {current.id} dated {current.dated}",
                    "letter_id": current.id,
                }
            }
        made = existing_letter(session, org_id, row.idempotency_key)  # a crashed earlier run
        try:
            letter = made or save_letter(
                session,
                org_id,
                org_name,
                draft_letter(
                    session,
                    org_id,
                    org_name,
                    customer,
                    spec,
                    action_key=row.idempotency_key,
                    today=today,
                    renderer=renderer,
                    currency=anchor.currency,
                    is_business=letter_cfg.get("debtor_is_business"),
                    reply_email=letter_cfg.get("reply_email"),
                ),
                spec,
                action_key=row.idempotency_key,
                folder=Path(letter_cfg["folder"]),
                renderer=renderer,
                now=now,
            )
        except (StatementError, LetterTemplateError, OSError) as exc:
            raise PermanentError(f"cannot make the letter: {exc}") from None
        if spec.attach_to_email:
            _queue_email(session, org_id, row, letter, now)
        numbers = {i["provider_id"]: i["number"] for i in letter.statement["invoices"]}
        total = str(round_money(letter.total, letter.currency))
        letter_id, summary = letter.id, (letter.template, letter.path, total)
    crashpoint("letters.after_letter")
    _note_invoices(store, connector, row.idempotency_key, letter_id, numbers)
    crashpoint("letters.after_notes")
    return {
        "result": {
            "detail": f"{summary[0]} letter {letter_id} made: {summary[1]}",
            "letter_id": letter_id,
            "template": summary[0],
            "total": summary[2],
            "invoices": sorted(numbers),
        }
    }


def covering_letter(session: Session, org_id: int, row: OutboxAction, today: date) -> Letter | None:
    """Another escalation's letter that already demands this invoice and has not yet
    expired: one customer gets one letter, not one per invoice escalated the same week."""
    letters = session.scalars(
        select(Letter).where(
            Letter.org_id == org_id,
            Letter.customer_provider_id == row.customer_provider_id,
            Letter.action_key != row.idempotency_key,
            Letter.pay_by >= today,
        )
    )
    return next((x for x in letters if row.invoice_provider_id in x.invoice_ids), None)


def _note_invoices(
    store: Store, connector: Connector, key: str, letter_id: int, numbers: dict[str, str]
) -> None:
    with store.sessions() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        texts = {inv: note_for(letter, number) for inv, number in numbers.items()}
    for invoice_id, text in sorted(texts.items()):
        connector.add_note(invoice_id, text, idempotency_key=f"{key}/letter-note/{invoice_id}")


def _queue_email(
    session: Session, org_id: int, row: OutboxAction, letter: Letter, now: datetime
) -> None:
    """The email that carries the letter, queued once (ON CONFLICT DO NOTHING on its key);
    it runs without a second review: the escalation that made the letter was the decision."""
    key = f"{row.idempotency_key}/letter-email"
    invoices = [
        {
            "provider_id": i["provider_id"],
            "number": i["number"],
            "step": row.payload.get("step"),
            "key": key,
            "due_date": i["due_date"],
            "balance": i["balance"],
            "currency": letter.currency,
        }
        for i in letter.statement["invoices"]
    ]
    payload: dict[str, Any] = {
        "key": key,
        "action": "email",
        "customer": letter.customer_provider_id,
        "invoice": None,
        "invoices": invoices,
        "template": LETTER_EMAIL_TEMPLATE,
        "letter_id": letter.id,
        "policy": row.payload.get("policy"),
        "step": row.payload.get("step"),
        "reason": f"carries letter {letter.statement.get('reference')}",
    }
    enqueue(
        session,
        org_id=org_id,
        key=key,
        kind="email",
        payload=payload,
        now=now,
        review=None,
        customer_id=letter.customer_provider_id,
        reason=payload["reason"],
        scheduled_for=now.astimezone(UTC),
    )
