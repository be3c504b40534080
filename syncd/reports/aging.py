"""Aged receivables: what was owed on a day, by how many days past due.

Buckets follow the usual aged-debtors layout: ``current`` (not yet due), 1-30, 31-60,
61-90 and over 90 days past the due date. Amounts are never summed across currencies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from ..store.queries import round_money
from .ledger import ZERO, LedgerInvoice

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_90_plus")
Grouping = Literal["customer", "currency"]


def bucket_for(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "days_1_30"
    if days_overdue <= 60:
        return "days_31_60"
    if days_overdue <= 90:
        return "days_61_90"
    return "days_90_plus"


@dataclass
class AgingRow:
    org: str
    customer: str | None
    customer_name: str | None
    currency: str
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.amounts["current"]

    def to_dict(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {
            "org": self.org,
            "customer": self.customer,
            "customer_name": self.customer_name,
            "currency": self.currency,
        }
        out.update({b: str(round_money(self.amounts[b], self.currency)) for b in BUCKETS})
        out["total"] = str(round_money(self.total, self.currency))
        return out


def aging(
    invoices: Iterable[LedgerInvoice], as_of: date, by: Grouping = "customer"
) -> list[AgingRow]:
    """One row per org, customer (or only currency, ``by="currency"``) and currency, for
    everything owed at the end of ``as_of``; rows with nothing owed are left out."""
    rows: dict[tuple[str, str | None, str], AgingRow] = {}
    for inv in invoices:
        owed = inv.balance_on(as_of)
        if owed <= 0:
            continue
        customer = inv.customer_id if by == "customer" else None
        key = (inv.org, customer, inv.currency)
        row = rows.get(key)
        if row is None:
            name = inv.customer_name if by == "customer" else None
            row = rows[key] = AgingRow(inv.org, customer, name, inv.currency)
        row.amounts[bucket_for((as_of - inv.due_date).days)] += owed
    return sorted(rows.values(), key=lambda r: (r.org, r.currency, -r.total, r.customer_name or ""))


def totals(rows: Iterable[AgingRow]) -> list[AgingRow]:
    """Per org and currency, the sum of the rows."""
    out: dict[tuple[str, str], AgingRow] = defaultdict(lambda: AgingRow("", None, None, ""))
    for row in rows:
        total = out[(row.org, row.currency)]
        total.org, total.currency = row.org, row.currency
        for b in BUCKETS:
            total.amounts[b] += row.amounts[b]
    return [out[k] for k in sorted(out)]
