"""Side-by-side figures for several policies replayed over the same history.

What a replay is, and is not: payments arrive exactly as they did in reality, whatever
the policy; how customers would have answered a different policy is not modelled. So
"fees on invoices then paid within N days" are fees the replayed policy would have charged
on invoices that were paid soon anyway: a cost to goodwill, not income.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .actions import ActionKind
from .money import ZERO
from .simulate import SimulationResult
from .snapshot import InvoiceSnapshot

CAVEAT = (
    "Payments are replayed as they happened; how customers would have responded to a "
    "different policy is not modelled."
)
_CHARGES = (ActionKind.LATE_FEE, ActionKind.INTEREST, ActionKind.COMPENSATION)


@dataclass
class CurrencyFigures:
    actions: int = 0
    charged: Decimal = ZERO
    charged_then_paid: Decimal = ZERO


@dataclass
class Comparison:
    policy: str
    emails: int
    notes: int
    escalations: int
    charges: int
    peak_actions_per_day: int
    peak_day: date | None
    paid_within: int
    per_currency: dict[str, CurrencyFigures] = field(default_factory=dict)
    held: int = 0
    """Actions the engine itself would hold for a person (a claim on a customer not known
    to be a business, a debt long overdue at go-live), whatever the org's review mode: the
    replay counts them as done, a live run would not do them unapproved."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "emails": self.emails,
            "notes": self.notes,
            "escalations": self.escalations,
            "charges": self.charges,
            "peak_actions_per_day": self.peak_actions_per_day,
            "peak_day": None if self.peak_day is None else self.peak_day.isoformat(),
            "paid_within_days": self.paid_within,
            "held_for_review": self.held,
            "per_currency": {
                cur: {
                    "actions": f.actions,
                    "charged": str(f.charged),
                    "charged_on_invoices_then_paid": str(f.charged_then_paid),
                }
                for cur, f in sorted(self.per_currency.items())
            },
        }


def paid_by(invoice: InvoiceSnapshot, day: date, within: int) -> bool:
    """Whether the invoice's balance was zero at the end of some day from ``day`` to
    ``day + within`` (its real payment history, not the replay's)."""
    last = day + timedelta(days=within)
    days = [day, *sorted({p.on for p in invoice.payments if day < p.on <= last})]
    return any(invoice.balance_on(d) <= 0 for d in days)


def compare(
    name: str,
    result: SimulationResult,
    invoices: Mapping[str, InvoiceSnapshot],
    within: int = 14,
) -> Comparison:
    per_day: Counter[date] = Counter()
    per_currency: dict[str, CurrencyFigures] = {}
    for entry in result.timeline:
        action = entry.action
        per_day[entry.day] += 1
        ids = [i.invoice_id for i in action.items] or (
            [action.invoice_id] if action.invoice_id else []
        )
        cur = action.amount.currency if action.amount is not None else _currency(ids, invoices)
        figures = per_currency.setdefault(cur, CurrencyFigures())
        figures.actions += 1
        if action.kind in _CHARGES and action.amount is not None:
            figures.charged += action.amount.amount
            inv = invoices.get(action.invoice_id or "")
            if inv is not None and paid_by(inv, entry.day, within):
                figures.charged_then_paid += action.amount.amount
    peak = max(per_day.items(), key=lambda kv: (kv[1], -kv[0].toordinal()), default=None)
    o = result.overall
    return Comparison(
        policy=name,
        emails=o.emails + o.provider_emails,
        notes=o.notes,
        escalations=o.escalations,
        charges=sum(1 for e in result.timeline if e.action.kind in _CHARGES),
        peak_actions_per_day=peak[1] if peak else 0,
        peak_day=peak[0] if peak else None,
        paid_within=within,
        per_currency=per_currency,
        held=sum(1 for e in result.timeline if e.action.review),
    )


def _currency(ids: Iterable[str], invoices: Mapping[str, InvoiceSnapshot]) -> str:
    for i in ids:
        if i in invoices:
            return invoices[i].currency
    return "?"
