"""Invoices with their dated history, so any past day's balance can be rebuilt.

A report about a past day must not use today's balances: an invoice paid last week was
overdue a month ago. Each invoice carries what changed its balance and when: payments and
credit notes applied to it (on their date), their deletion or refund (on the day syncd saw
it, as the dunning engine counts it), and the fee lines syncd added (on the day the action
was done).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to what is owed on an invoice: positive pays, negative reopens."""

    on: date
    amount: Decimal
    #: payment | credit_note (a reversal keeps its origin's kind, with a negative amount)
    kind: str = "payment"


@dataclass(frozen=True, slots=True)
class FeeLine:
    """A fee line syncd posted on the invoice, owed from ``on``."""

    on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LedgerInvoice:
    org: str
    invoice_id: str
    number: str
    customer_id: str
    customer_name: str
    currency: str
    issue_date: date
    due_date: date
    #: The invoice's total and balance today, fee lines included.
    total: Decimal
    balance: Decimal
    movements: tuple[Movement, ...] = ()
    fees: tuple[FeeLine, ...] = ()

    def owed_on(self, day: date) -> Decimal:
        """The total as it stood on ``day``: fee lines added later are not yet owed."""
        return self.total - self.fees_after(day)

    def fees_after(self, day: date) -> Decimal:
        return sum((f.amount for f in self.fees if f.on > day), ZERO)

    def balance_on(self, day: date) -> Decimal:
        """What was still owed at the end of ``day`` (zero before the invoice existed).

        Worked back from today's balance, as the dunning engine does: money received after
        ``day`` was still owed then, fee lines added after it were not. Provider
        adjustments the history does not show stay respected."""
        if day < self.issue_date:
            return ZERO
        later = sum((m.amount for m in self.movements if m.on > day), ZERO)
        return max(ZERO, self.balance + later - self.fees_after(day))

    def settled_on(self, after: date) -> date | None:
        """The first day on or after ``after`` at whose end nothing was owed, if any."""
        if self.balance_on(after) <= 0:
            return after
        for day in sorted({m.on for m in self.movements if m.on > after}):
            if self.balance_on(day) <= 0:
                return day
        return None

    def paid_between(self, start: date, end: date) -> Decimal:
        """Money received on the invoice after ``start`` up to ``end``, net of refunds.
        Credit notes settle an invoice but bring no money in: not counted."""
        return sum(
            (m.amount for m in self.movements if start < m.on <= end and m.kind == "payment"),
            ZERO,
        )
