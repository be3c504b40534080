"""Drafting a letter from the store and saving it exactly once per escalating action."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.ladder import Letter
from ..store.queries import round_money
from .render import LetterRenderer, html_to_text
from .spec import LetterSpec, choose_template
from .statement import Statement, build_statement


@dataclass(frozen=True, slots=True)
class Draft:
    template: str
    statement: Statement
    dated: date
    pay_by: date
    reference: str
    continuing: bool
    html: str
    #: Why a human must look before it goes out (None: nothing in particular).
    hold: str | None

    @property
    def text(self) -> str:
        return html_to_text(self.html)


def reference_for(action_key: str) -> str:
    return "L-" + hashlib.sha256(action_key.encode()).hexdigest()[:8].upper()


def draft_letter(
    session: Session,
    org_id: int,
    org_name: str,
    customer_id: str,
    spec: LetterSpec,
    *,
    action_key: str,
    today: date,
    renderer: LetterRenderer,
    currency: str | None = None,
    is_business: bool | None = None,
    reply_email: str | None = None,
) -> Draft:
    """``is_business``: the debtor as the org marks it (groups), else the provider's sign;
    ``reply_email``: the business's address when the provider gives none (``reply_address``)."""
    statement = build_statement(
        session, org_id, customer_id, today, org_name=org_name, currency=currency
    )
    if statement.business.email is None and reply_email:
        statement = replace(statement, business=replace(statement.business, email=reply_email))
    business = statement.is_business if is_business is None else is_business
    template, hold = choose_template(spec, business, statement.customer.country)
    # Statutory late-payment interest runs on business debts only.
    continuing = spec.interest_policy and business is True
    dated = today
    pay_by = dated + timedelta(days=spec.pay_within_days)
    reference = reference_for(action_key)
    body = renderer.html(
        template,
        {
            "business": statement.business,
            "customer": statement.customer,
            "s": statement,
            "dated": dated,
            "pay_by": pay_by,
            "consequences": list(spec.consequences),
            "reference": reference,
            "continuing": continuing,
        },
    )
    return Draft(template, statement, dated, pay_by, reference, continuing, body, hold)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "customer"


def existing_letter(session: Session, org_id: int, action_key: str) -> Letter | None:
    return session.scalar(
        select(Letter).where(Letter.org_id == org_id, Letter.action_key == action_key)
    )


def save_letter(
    session: Session,
    org_id: int,
    org_name: str,
    draft: Draft,
    spec: LetterSpec,
    *,
    action_key: str,
    folder: Path,
    renderer: LetterRenderer,
    now: datetime,
) -> Letter:
    """Write the PDF (atomically: a crash leaves no half file) and its row with the audit
    entry; a second call for the same action returns the first letter untouched."""
    found = existing_letter(session, org_id, action_key)
    if found is not None:
        return found
    s = draft.statement
    title = "Letter of claim" if draft.template == "pre-action-ew" else "Letter of demand"
    pdf = renderer.pdf(
        draft.html, title=f"{title} {draft.reference}", author=s.business.name, created=now
    )
    where = folder / _safe(org_name) / _safe(s.customer_id)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{draft.dated.isoformat()}-{draft.template}-{draft.reference}.pdf"
    part = path.with_suffix(".pdf.part")
    part.write_bytes(pdf)
    os.replace(part, path)
    letter = Letter(
        org_id=org_id,
        action_key=action_key,
        customer_provider_id=s.customer_id,
        template=draft.template,
        invoice_ids=[i.provider_id for i in s.invoices],
        currency=s.currency,
        total=s.total,
        dated=draft.dated,
        pay_by=draft.pay_by,
        path=str(path),
        sha256=hashlib.sha256(pdf).hexdigest(),
        by_post=spec.by_post,
        attach_to_email=spec.attach_to_email,
        statement={**s.to_dict(), "reference": draft.reference},
        created_at=now,
    )
    session.add(letter)
    session.flush()
    record(
        session,
        at=now,
        event="letter.created",
        org_id=org_id,
        subject_type="customer",
        subject_id=s.customer_id,
        letter_id=letter.id,
        action=action_key,
        template=draft.template,
        invoices=[i.number for i in s.invoices],
        total=str(s.total),
        currency=s.currency,
        pay_by=draft.pay_by,
        path=str(path),
    )
    return letter


def note_for(letter: Letter, number: str) -> str:
    kind = "letter of claim" if letter.template == "pre-action-ew" else "letter of demand"
    how = " and ".join(
        w for w, on in (("by email", letter.attach_to_email), ("by post", letter.by_post)) if on
    )
    return (
        f"Formal {kind} {letter.statement.get('reference')} dated {letter.dated.isoformat()} "
        f"({how}) covering invoice {number}; total demanded "
        f"{round_money(letter.total, letter.currency)} {letter.currency}, "
        f"final date to pay {letter.pay_by.isoformat()}."
    )


def letter_summary(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "customer": letter.customer_provider_id,
        "template": letter.template,
        "reference": letter.statement.get("reference"),
        "dated": letter.dated.isoformat(),
        "pay_by": letter.pay_by.isoformat(),
        "total": str(round_money(letter.total, letter.currency)),
        "currency": letter.currency,
        "invoices": [i.get("number") for i in letter.statement.get("invoices", [])],
        "by_post": letter.by_post,
        "attach_to_email": letter.attach_to_email,
        "posted_on": letter.posted_on.isoformat() if letter.posted_on else None,
        "path": letter.path,
    }
