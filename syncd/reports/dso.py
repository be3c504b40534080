"""Days sales outstanding per period, per currency.

Formula (the "simple" or period-end method): DSO = receivables at the end of the period
/ credit sales invoiced in the period x days in the period. Receivables are rebuilt from the
payment history for the period's last day; credit sales are the totals of invoices issued in
the period (fee lines included once they were added). A period without sales has no DSO.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ..store.queries import round_money
from .ledger import ZERO, LedgerInvoice

FORMULA = "DSO = receivables at period end / credit sales in the period x days in the period"
Every = Literal["week", "month"]


@dataclass(frozen=True)
class DsoRow:
    start: date
    end: date
    currency: str
    receivables: Decimal
    sales: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def dso(self) -> Decimal | None:
        if self.sales <= 0:
            return None
        value = self.receivables / self.sales * self.days
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "currency": self.currency,
            "receivables": str(round_money(self.receivables, self.currency)),
            "sales": str(round_money(self.sales, self.currency)),
            "dso": None if self.dso is None else str(self.dso),
        }


def periods(start: date, end: date, every: Every) -> Iterator[tuple[date, date]]:
    """Calendar weeks (Monday to Sunday) or months covering ``start``..``end``, clipped."""
    day = start
    while day <= end:
        if every == "week":
            stop = day + timedelta(days=6 - day.weekday())
        else:
            nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            stop = nxt - timedelta(days=1)
        stop = min(stop, end)
        yield day, stop
        day = stop + timedelta(days=1)


def dso(
    invoices: Iterable[LedgerInvoice], start: date, end: date, every: Every = "month"
) -> list[DsoRow]:
    items = list(invoices)
    currencies = sorted({i.currency for i in items})
    rows: list[DsoRow] = []
    for first, last in periods(start, end, every):
        for cur in currencies:
            mine = [i for i in items if i.currency == cur]
            receivables = sum((i.balance_on(last) for i in mine), ZERO)
            sales = sum((i.owed_on(last) for i in mine if first <= i.issue_date <= last), ZERO)
            if receivables or sales:
                rows.append(DsoRow(first, last, cur, receivables, sales))
    return rows
