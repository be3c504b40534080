"""The case file an agency or a lawyer asks for, as one zip archive.

Contents: ``README.txt`` (who, what, how much, what is inside); ``statement.csv`` and
``statement.pdf``; ``customer.json`` and ``invoices/<number>.json`` (the provider's own
records, as syncd stored them); ``payments.csv`` and ``payments/<id>.json``; the
communication log ``communications.csv`` (every action, email, note, letter, fee, promise,
dispute, plan and settlement with its date and reason) and ``timeline.json``;
``emails/<action>.eml`` (each email as it was handed to the SMTP server); ``letters/``
(every letter's PDF); ``audit.jsonl`` (the audit entries about the customer).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..store.ladder import Letter, SentMessage
from ..store.models import AuditEntry, Customer, Invoice, OutboxAction, Payment
from ..store.queries import round_money
from ..store.upserts import to_jsonable
from .render import LetterRenderer
from .statement import Statement
from .timeline import Event, customer_timeline

NO_BODY = "body not kept: sent before syncd stored message bodies"


def _csv(rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(to_jsonable(value), indent=2, sort_keys=True).encode("utf-8")


def statement_csv(s: Statement) -> bytes:
    head = ["invoice", "issue_date", "due_date", "amount", "charges", "paid", "balance", "currency"]
    rows: list[list[Any]] = [head]
    for i in s.invoices:
        rows.append(
            [i.number, i.issue_date, i.due_date, i.amount, i.charges, i.paid, i.balance, s.currency]
        )
    rows.append(["TOTAL", "", "", s.amount, s.charges_total, s.paid, s.total, s.currency])
    return _csv(rows)


def _communications(events: list[Event], bodies: dict[int, str]) -> bytes:
    rows: list[list[Any]] = [["at", "kind", "invoice", "summary", "why", "ref", "body"]]
    for e in events:
        action = e.details.get("action_id")
        body = ""
        if e.kind == "email" and action is not None:
            body = bodies.get(int(action), NO_BODY)
        rows.append(
            [e.at.isoformat(), e.kind, e.invoice or "", e.summary, e.why or "", e.ref or "", body]
        )
    return _csv(rows)


def build_case_file(
    session: Session,
    org_id: int,
    customer: Customer,
    statement: Statement,
    *,
    agency: str,
    now: datetime,
    renderer: LetterRenderer,
) -> bytes:
    files: dict[str, bytes] = {}
    context = {
        "business": statement.business,
        "customer": statement.customer,
        "s": statement,
        "dated": statement.as_of,
        "reference": f"case {customer.provider_id}",
        "agency": agency,
    }
    files["statement.pdf"] = renderer.pdf(
        renderer.html("statement", context),
        title="Statement of account",
        author=statement.business.name,
        created=now,
    )
    files["statement.csv"] = statement_csv(statement)
    files["customer.json"] = _json(customer.raw)
    invoices = list(
        session.scalars(
            select(Invoice).where(
                Invoice.org_id == org_id, Invoice.customer_provider_id == customer.provider_id
            )
        )
    )
    for inv in invoices:
        files[f"invoices/{_name(inv.number or inv.provider_id)}.json"] = _json(inv.raw)
    files.update(
        _payments(session, org_id, {i.provider_id: i.number or i.provider_id for i in invoices})
    )
    events = customer_timeline(session, org_id, customer.provider_id)
    kept = _emails(session, org_id, customer.provider_id)
    for action_id, raw in kept.items():
        files[f"emails/{action_id}.eml"] = raw.encode("utf-8")
    bodies = {a: f"emails/{a}.eml" for a in kept}
    files["communications.csv"] = _communications(events, bodies)
    files["timeline.json"] = _json([e.to_dict() for e in events])
    for letter in session.scalars(
        select(Letter).where(
            Letter.org_id == org_id, Letter.customer_provider_id == customer.provider_id
        )
    ):
        path = Path(letter.path)
        files[f"letters/{path.name}"] = path.read_bytes()
    files["audit.jsonl"] = _audit(
        session, org_id, customer.provider_id, [i.provider_id for i in invoices]
    )
    files["README.txt"] = _readme(statement, customer, agency, now, sorted(files))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ["README.txt", *sorted(n for n in files if n != "README.txt")]:
            archive.writestr(name, files[name])
    return buffer.getvalue()


def _name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)[:80]


def _payments(session: Session, org_id: int, numbers: dict[str, str]) -> dict[str, bytes]:
    rows: list[list[Any]] = [
        ["payment", "kind", "date", "invoice", "amount", "currency", "deleted"]
    ]
    files: dict[str, bytes] = {}
    payments = session.scalars(select(Payment).where(Payment.org_id == org_id))
    for p in payments:
        mine = [a for a in p.allocations if a.invoice_provider_id in numbers]
        if not mine:
            continue
        files[f"payments/{_name(p.kind)}-{_name(p.provider_id)}.json"] = _json(p.raw)
        for a in mine:
            rows.append(
                [
                    p.provider_id,
                    p.kind,
                    p.date,
                    numbers[a.invoice_provider_id],
                    round_money(a.amount, p.currency),
                    p.currency,
                    p.deleted,
                ]
            )
    files["payments.csv"] = _csv(rows)
    return files


def _emails(session: Session, org_id: int, customer_id: str) -> dict[int, str]:
    rows = session.scalars(
        select(SentMessage).where(
            SentMessage.org_id == org_id, SentMessage.customer_provider_id == customer_id
        )
    )
    return {m.action_id: m.raw for m in rows}


def _audit(session: Session, org_id: int, customer_id: str, invoice_ids: list[str]) -> bytes:
    keys = list(
        session.scalars(
            select(OutboxAction.idempotency_key).where(
                OutboxAction.org_id == org_id,
                or_(
                    OutboxAction.customer_provider_id == customer_id,
                    OutboxAction.invoice_provider_id.in_(invoice_ids or [""]),
                ),
            )
        )
    )
    subjects = [customer_id, *invoice_ids, *keys]
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.org_id == org_id, AuditEntry.subject_id.in_(subjects))
        .order_by(AuditEntry.id)
    )
    lines = [
        json.dumps(
            to_jsonable(
                {
                    "at": e.at,
                    "actor": e.actor,
                    "event": e.event,
                    "subject_type": e.subject_type,
                    "subject_id": e.subject_id,
                    "details": e.details,
                }
            ),
            sort_keys=True,
        )
        for e in entries
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _readme(
    s: Statement, customer: Customer, agency: str, now: datetime, names: list[str]
) -> bytes:
    text = (
        f"Case file: {s.customer.name} (customer {customer.provider_id})\n"
        f"Creditor: {s.business.name}\nReferred to: {agency}\n"
        f"Prepared: {now.isoformat()}\n"
        f"Amount referred: {s.total} {s.currency} on {len(s.invoices)} overdue invoice(s): "
        f"{', '.join(i.number for i in s.invoices)}\n"
        f"Of which late fees {s.charges_of('late_fee')}, statutory interest "
        f"{s.charges_of('interest')}, fixed compensation {s.charges_of('compensation')}; "
        f"payments received {s.paid}.\n\nContents:\n"
        + "".join(f"  {n}\n" for n in ["README.txt", *names])
        + f"\nEmails sent before syncd kept message bodies show '{NO_BODY}' in "
        "communications.csv; their Message-IDs are listed there.\n"
    )
    return text.encode("utf-8")
