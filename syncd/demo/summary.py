"""What the demo did, counted from the store (not from the demo's own bookkeeping), so the
summary says exactly what ``syncd actions`` and the mail folder show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syncd.store.models import Org, OutboxAction

from .payers import Payment

FEE_KINDS = ("late_fee", "interest")


def _currency(payload: dict[str, Any]) -> str:
    if payload.get("currency"):
        return str(payload["currency"])
    items = payload.get("invoices") or []
    return str(items[0].get("currency") or "") if items else ""


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
        }


def summarize(
    session: Session, *, approved: int, paid: list[Payment], days: int, errors: list[str]
) -> Summary:
    totals: dict[tuple[str, str], OrgTotals] = {}
    statuses: dict[str, int] = defaultdict(int)
    rows = session.execute(
        select(Org.name, OutboxAction.kind, OutboxAction.status, OutboxAction.payload).join(
            Org, Org.id == OutboxAction.org_id
        )
    ).all()
    for org, kind, status, payload in rows:
        statuses[status] += 1
        if status != "done":
            continue
        t = totals.setdefault((org, _currency(payload)), OrgTotals())
        if kind == "email":
            t.emails += 1
        elif kind == "note":
            t.notes += 1
        elif kind in FEE_KINDS:
            t.fees += 1
            t.fee_amount += Decimal(str(payload.get("amount") or 0))
        else:
            t.other[kind] = t.other.get(kind, 0) + 1
    return Summary(totals, dict(sorted(statuses.items())), approved, paid, days, errors)
