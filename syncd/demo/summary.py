"""What the demo did, counted from the store (not from the demo's own bookkeeping), so the
summary says exactly what ``syncd actions`` and the mail folder show."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.models import Invoice, Org, OutboxAction

from .payers import Payment

FEE_KINDS = ("late_fee", "interest")


def _invoice_ids(payload: dict[str, Any], result: dict[str, Any] | None = None) -> list[str]:
    """The invoices an action was for; for an email, those it named when it went out (the
    executor re-reads every invoice and leaves out any paid since planning)."""
    items = list(payload.get("invoices") or [])
    if payload.get("invoice"):
        items.append(payload["invoice"])
    ids = [str(i.get("provider_id")) for i in items if i.get("provider_id")]
    if result and isinstance(result.get("invoices"), list):
        kept = {str(i) for i in result["invoices"]}
        ids = [i for i in ids if i in kept]
    return ids


def _reason(error: str) -> str:
    """Failures and holds grouped by what went wrong, not by which customer."""
    return re.sub(r"customer \S+ ", "customer ", error)


def _currency(payload: dict[str, Any], org: str, known: dict[tuple[str, str], str]) -> str:
    """A fee's own currency, else its invoices' (a note names only the invoice)."""
    if payload.get("currency"):
        return str(payload["currency"])
    items = payload.get("invoices") or []
    if items and items[0].get("currency"):
        return str(items[0]["currency"])
    ids = _invoice_ids(payload)
    return known.get((org, ids[0]), "") if ids else ""


@dataclass
class OrgTotals:
    emails: int = 0
    notes: int = 0
    fees: int = 0
    fee_amount: Decimal = Decimal(0)
    other: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    #: (org, currency) -> what was done.
    totals: dict[tuple[str, str], OrgTotals]
    #: outbox status -> count, over every action.
    statuses: dict[str, int]
    approved: int
    paid: list[Payment]
    days: int
    errors: list[str] = field(default_factory=list)
    #: Actions executed for an invoice after the demo's customer had paid it (should be 0).
    after_payment: int = 0
    #: Why actions failed, with how many.
    failures: dict[str, int] = field(default_factory=dict)
    #: Why actions still wait for a human (the demo approves everything else), with how many.
    held: dict[str, int] = field(default_factory=dict)

    def paid_after(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for p in self.paid:
            out[p.after_step or "(none)"] += 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "orgs": [
                {
                    "org": org,
                    "currency": cur,
                    "emails": t.emails,
                    "notes": t.notes,
                    "fees": t.fees,
                    "fee_amount": str(t.fee_amount),
                    "other": t.other,
                }
                for (org, cur), t in sorted(self.totals.items())
            ],
            "statuses": self.statuses,
            "approved_in_review": self.approved,
            "paid_after_step": self.paid_after(),
            "payments": [
                {"org": p.org, "invoice": p.number, "day": p.day, "after_step": p.after_step}
                for p in self.paid
            ],
            "errors": self.errors,
            "actions_after_payment": self.after_payment,
            "failures": self.failures,
            "held": self.held,
        }


def summarize(
    session: Session,
    *,
    start: datetime,
    approved: int,
    paid: list[Payment],
    days: int,
    errors: list[str],
) -> Summary:
    totals: dict[tuple[str, str], OrgTotals] = {}
    statuses: dict[str, int] = defaultdict(int)
    failures: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    paid_at = {(p.org, p.invoice_id): start + timedelta(days=p.day) for p in paid}
    after_payment = 0
    rows = session.execute(
        select(
            Org.name,
            OutboxAction.kind,
            OutboxAction.status,
            OutboxAction.payload,
            OutboxAction.updated_at,
            OutboxAction.last_error,
            OutboxAction.result,
            OutboxAction.review_reason,
        ).join(Org, Org.id == OutboxAction.org_id)
    ).all()
    currencies = {
        (org, pid): cur
        for org, pid, cur in session.execute(
            select(Org.name, Invoice.provider_id, Invoice.currency).join(
                Org, Org.id == Invoice.org_id
            )
        )
    }
    for org, kind, status, payload, updated, error, result, review in rows:
        statuses[status] += 1
        if status == "failed":
            failures[_reason(error or "unknown")] += 1
        if status == "awaiting_review":
            held[_reason(review or "unknown")] += 1
        if status != "done":
            continue
        ids = _invoice_ids(payload, result)
        if any((org, i) in paid_at and updated >= paid_at[(org, i)] for i in ids):
            after_payment += 1
        t = totals.setdefault((org, _currency(payload, org, currencies)), OrgTotals())
        if kind == "email":
            t.emails += 1
        elif kind == "note":
            t.notes += 1
        elif kind in FEE_KINDS:
            t.fees += 1
            t.fee_amount += Decimal(str(payload.get("amount") or 0))
        else:
            t.other[kind] = t.other.get(kind, 0) + 1
    return Summary(
        totals,
        dict(sorted(statuses.items())),
        approved,
        paid,
        days,
        errors,
        after_payment,
        dict(failures),
        dict(held),
    )
