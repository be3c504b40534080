"""One customer's record: every fact syncd holds about them, in time order.

Sources are small functions over the store; the recovery ladder's other rungs (payment
plans, settlements) are read from their tables when those exist, so this module needs
no import of theirs. A further source can be added to :data:`SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from ..store.ladder import Handoff, Letter, SentMessage
from ..store.models import (
    AuditEntry,
    CallTask,
    Hold,
    Invoice,
    OutboxAction,
    Payment,
    PaymentAllocation,
)
from ..store.queries import round_money
from ..store.upserts import to_jsonable


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: str
    summary: str
    invoice: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    #: Why syncd did it (the planner's reason), where it did something.
    why: str | None = None
    #: Message-ID, letter path, archive path: what proves it.
    ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "summary": self.summary,
            "invoice": self.invoice,
            "amount": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "why": self.why,
            "ref": self.ref,
        }
        if self.details:
            out["details"] = to_jsonable(self.details)
        return out


@dataclass(frozen=True, slots=True)
class Who:
    org_id: int
    customer_id: str
    #: provider id -> number of the customer's invoices.
    numbers: dict[str, str]


Source = Callable[[Session, Who], Iterable[Event]]


def _day(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


def invoices(session: Session, who: Who) -> Iterable[Event]:
    rows = session.scalars(
        select(Invoice).where(
            Invoice.org_id == who.org_id, Invoice.customer_provider_id == who.customer_id
        )
    )
    for r in rows:
        number = r.number or r.provider_id
        due = f", due {r.due_date.isoformat()}" if r.due_date else ""
        yield Event(
            _day(r.issue_date or r.due_date or r.synced_at.date()),
            "invoice",
            f"invoice {number} issued{due}: total {round_money(r.total, r.currency)}, "
            f"balance now {round_money(r.balance, r.currency)} ({r.status})",
            invoice=number,
            amount=round_money(r.total, r.currency),
            currency=r.currency,
        )


def payments(session: Session, who: Who) -> Iterable[Event]:
    if not who.numbers:
        return
    rows = session.execute(
        select(Payment, PaymentAllocation)
        .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(
            Payment.org_id == who.org_id,
            PaymentAllocation.invoice_provider_id.in_(sorted(who.numbers)),
        )
    )
    for p, a in rows:
        number = who.numbers[a.invoice_provider_id]
        word = "credit" if p.kind != "payment" else "payment"
        gone = " (since deleted at the provider)" if p.deleted else ""
        yield Event(
            _day(p.date) if p.date else p.synced_at,
            word,
            f"{word} {p.provider_id}: {round_money(a.amount, p.currency)} applied to invoice "
            f"{number}{gone}",
            invoice=number,
            amount=round_money(a.amount, p.currency),
            currency=p.currency,
            ref=p.provider_id,
        )


def actions(session: Session, who: Who) -> Iterable[Event]:
    rows = list(
        session.scalars(
            select(OutboxAction).where(
                OutboxAction.org_id == who.org_id,
                (OutboxAction.customer_provider_id == who.customer_id)
                | OutboxAction.invoice_provider_id.in_(sorted(who.numbers) or [""]),
            )
        )
    )
    sent = {
        m.action_id: m
        for m in session.scalars(
            select(SentMessage).where(SentMessage.action_id.in_([r.id for r in rows] or [0]))
        )
    }
    for r in rows:
        payload = r.payload or {}
        numbers = [
            str(i.get("number") or i.get("provider_id"))
            for i in payload.get("invoices") or [payload.get("invoice") or {}]
            if i
        ]
        what = r.kind + (f" ({payload['template']})" if payload.get("template") else "")
        state = r.status + (f": {r.last_error}" if r.last_error else "")
        amount = payload.get("amount")
        message = sent.get(r.id)
        yield Event(
            r.updated_at,
            r.kind,
            f"{what} on {', '.join(numbers) or 'the account'}: {state}"
            + (f"; subject {message.subject!r}" if message and message.subject else ""),
            invoice=", ".join(numbers) or None,
            amount=Decimal(str(amount)) if amount else None,
            currency=payload.get("currency") if amount else None,
            why=str(payload.get("reason") or r.review_reason or "") or None,
            ref=r.message_id or r.remote_id,
            details={
                "action_id": r.id,
                "key": r.idempotency_key,
                "planned": r.created_at,
                "reviewed_by": r.reviewed_by,
                "text": payload.get("text"),
            },
        )


def holds(session: Session, who: Who) -> Iterable[Event]:
    rows = session.scalars(
        select(Hold).where(
            Hold.org_id == who.org_id,
            ((Hold.scope == "customer") & (Hold.provider_id == who.customer_id))
            | ((Hold.scope == "invoice") & Hold.provider_id.in_(sorted(who.numbers) or [""])),
        )
    )
    words = {"pause": "promise to pay", "dispute": "dispute", "handoff": "hand-off hold"}
    for h in rows:
        on = "the account" if h.scope == "customer" else f"invoice {who.numbers[h.provider_id]}"
        until = f" until {h.until.isoformat()}" if h.until else ""
        word = words.get(h.kind, h.kind)
        yield Event(h.created_at, h.kind, f"{word} on {on}{until} (by {h.actor})", why=h.reason)
        if h.released_at is not None:
            yield Event(h.released_at, f"{h.kind}-ended", f"{word} on {on} ended")


def letters(session: Session, who: Who) -> Iterable[Event]:
    rows = session.scalars(
        select(Letter).where(
            Letter.org_id == who.org_id, Letter.customer_provider_id == who.customer_id
        )
    )
    for x in rows:
        numbers = ", ".join(str(i.get("number")) for i in x.statement.get("invoices", []))
        yield Event(
            x.created_at,
            "letter",
            f"{x.template} letter {x.statement.get('reference')} dated {x.dated.isoformat()}: "
            f"{round_money(x.total, x.currency)} {x.currency} demanded by "
            f"{x.pay_by.isoformat()} (invoices {numbers})",
            invoice=numbers,
            amount=round_money(x.total, x.currency),
            currency=x.currency,
            ref=x.path,
        )
        if x.posted_on is not None:
            ref = x.statement.get("reference")
            yield Event(_day(x.posted_on), "letter-posted", f"letter {ref} posted by {x.posted_by}")


def handoffs(session: Session, who: Who) -> Iterable[Event]:
    rows = session.scalars(
        select(Handoff).where(
            Handoff.org_id == who.org_id, Handoff.customer_provider_id == who.customer_id
        )
    )
    for h in rows:
        yield Event(
            h.created_at,
            "handoff",
            f"handed off to {h.agency}: {round_money(h.balance, h.currency)} {h.currency} on "
            f"{len(h.invoice_ids)} invoice(s) (by {h.actor})",
            amount=round_money(h.balance, h.currency),
            currency=h.currency,
            ref=h.archive_path,
        )


def calls(session: Session, who: Who) -> Iterable[Event]:
    """Call tasks and their outcomes (``syncd tasks``)."""
    rows = session.scalars(
        select(CallTask).where(
            CallTask.org_id == who.org_id, CallTask.customer_provider_id == who.customer_id
        )
    )
    for t in rows:
        number = who.numbers.get(t.invoice_provider_id, t.invoice_provider_id)
        yield Event(
            t.created_at,
            "call",
            f"call task {t.id} on invoice {number}: {round_money(t.amount, t.currency)} "
            f"{t.currency}" + (f", phone {t.phone}" if t.phone else ""),
            invoice=number,
        )
        if t.done_at is not None:
            until = f" until {t.until.isoformat()}" if t.until else ""
            yield Event(
                t.done_at,
                "call-done",
                f"call task {t.id} done by {t.done_by}: {t.outcome}{until}",
                invoice=number,
                why=t.note,
            )


def notes(session: Session, who: Who) -> Iterable[Event]:
    """Notes people wrote through syncd (the audit log's ``note`` events)."""
    rows = session.scalars(
        select(AuditEntry).where(
            AuditEntry.org_id == who.org_id,
            AuditEntry.event == "customer.note",
            AuditEntry.subject_id == who.customer_id,
        )
    )
    for e in rows:
        yield Event(e.at, "note", str(e.details.get("text") or ""), why=e.actor)


def _table_rows(session: Session, table: str, where: str, **params: Any) -> list[Any]:
    if not inspect(session.get_bind()).has_table(table):
        return []
    return list(session.execute(text(f"SELECT * FROM {table} WHERE {where}"), params))  # noqa: S608


def plans_and_settlements(session: Session, who: Who) -> Iterable[Event]:
    """Payment plans and settlement offers (``payment_plans``, ``settlements``: issue 17's
    plans branch), read by column name so the record shows them once they exist."""
    args = {"org": who.org_id, "customer": who.customer_id}
    where = "org_id = :org AND customer_provider_id = :customer"
    for p in _table_rows(session, "payment_plans", where, **args):
        m = p._mapping
        yield Event(
            _aware(m["created_at"]),
            "plan",
            f"payment plan {m['id']}: {m['amount']} {m['currency']} every {m['every']} "
            f"({m['status']})",
            amount=Decimal(str(m["amount"])),
            currency=m["currency"],
            why=m.get("end_reason"),
        )
    for s in _table_rows(session, "settlements", where, **args):
        m = s._mapping
        number = who.numbers.get(str(m["invoice_provider_id"]), m["invoice_provider_id"])
        yield Event(
            _aware(m["created_at"]),
            "settlement",
            f"settlement offer {m['id']} on invoice {number}: {m['agreed_amount']} "
            f"{m['currency']} by {m['pay_by']} ({m['status']})",
            invoice=str(number),
            amount=Decimal(str(m["agreed_amount"])),
            currency=m["currency"],
            why=m.get("note"),
        )


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _day(value)


SOURCES: list[Source] = [
    invoices,
    payments,
    actions,
    holds,
    letters,
    handoffs,
    notes,
    plans_and_settlements,
]


def customer_timeline(session: Session, org_id: int, customer_id: str) -> list[Event]:
    numbers = {
        pid: number or pid
        for pid, number in session.execute(
            select(Invoice.provider_id, Invoice.number).where(
                Invoice.org_id == org_id, Invoice.customer_provider_id == customer_id
            )
        )
    }
    who = Who(org_id, customer_id, numbers)
    events = [e for source in SOURCES for e in source(session, who)]
    return sorted(events, key=lambda e: (e.at, e.kind))
