"""The payment side of the seeded history: customers paying (several invoices at once, in part,
or in advance) and former customers made inactive, planned as events the planner replays.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from .company import Company
from .money import ZERO, money
from .realism import Decoration
from .seeddraws import below, bits_of, choice
from .seedshared import PlannedLine
from .seedwriter import SeedWriter, SeedWrites

JSON = dict[str, Any]


#: What an invoice's request is built from when it is written (seed.py ``_invoice_body``): the
#: customer, TxnDate, term id, BillEmail address, lines and the drawn decoration.
InvoiceRequest = tuple[JSON, str, str, str | None, list[PlannedLine], Decoration]


@dataclass(slots=True)
class InvoicePlan:
    index: int
    customer_id: str
    created: datetime
    total: Decimal
    fate: str  # paid | partial | open | voided | deleted
    request: InvoiceRequest | None = None
    invoice_id: str = ""
    credit: Decimal = ZERO
    credit_applied: bool = False
    memo_id: str = ""


#: ``Decimal(n)`` for the share of a partly paid invoice paid so far (25-74 per cent).
_PARTS = [Decimal(n) for n in range(25, 75)]

#: (when, sequence number, action): a plain tuple, since a few hundred thousand are made and
#: sorted; the sequence number is unique, so the action is never compared.
_Event = tuple[datetime, int, Callable[[], None]]


class PlannerBase:
    """The event list, and the payments planned from the invoices' fates."""

    def __init__(self, company: Company, rng: random.Random, now: datetime, invoices: int) -> None:
        self.company = company
        self.rng = rng
        self.now = now.astimezone(company.tz)
        self.invoice_count = invoices
        self.aux = random.Random(0)  # noqa: S311 - replaced by seed_company
        self.events: list[_Event] = []
        self.seq = 0
        # Time of the event being replayed, so actions stamp their writes with it.
        self._when = self.now
        self.customer_terms: dict[str, str] = {}
        #: Where the common writes go: the company's rules or the bulk writer.
        self.writes: SeedWrites = company
        #: The bulk writer when ``writes`` is one (its planned-invoice path), else ``None``.
        self.bulk: SeedWriter | None = None

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        if when >= self.now:
            when = self.now - timedelta(seconds=1)
        self.seq += 1
        self.events.append((when, self.seq, action))

    def make_payments(self, plans: list[InvoicePlan]) -> None:
        rng = self.rng
        bits = bits_of(rng)
        recent = self.now - timedelta(minutes=5)
        after_credit, after_sale = timedelta(days=8, hours=1), timedelta(hours=1)
        by_customer: dict[str, list[tuple[datetime, InvoicePlan, Decimal]]] = {}
        for plan in plans:
            if plan.fate not in ("paid", "partial"):
                continue
            due = plan.total - (plan.credit if plan.credit_applied else ZERO)
            if due <= 0:
                continue
            amount = due if plan.fate == "paid" else money(due * _PARTS[below(bits, 50)] / 100)
            first = 9 if plan.credit else 0
            # ``timedelta(days=..., minutes=...)``, positionally: keywords cost twice as much
            lag = timedelta(first + below(bits, 75 - first), 60 * below(bits, 600))
            paid_at = plan.created + lag
            if paid_at >= recent:
                paid_at = self.now - timedelta(0, 300 + 60 * below(bits, 595))
            if paid_at <= plan.created + (after_credit if plan.credit else after_sale):
                continue  # too recent to have been paid: stays open
            by_customer.setdefault(plan.customer_id, []).append((paid_at, plan, amount))
        ten_days = timedelta(days=10)
        for customer_id in sorted(by_customer, key=int):
            # In invoice order already: a stable sort by time alone orders them by (time, index).
            entries = sorted(by_customer[customer_id], key=itemgetter(0))
            group: list[tuple[datetime, InvoicePlan, Decimal]] = []
            for entry in entries:
                if group and (entry[0] - group[0][0] > ten_days or rng.random() < 0.6):
                    self._schedule_payment(customer_id, group)
                    group = []
                group.append(entry)
            if group:
                self._schedule_payment(customer_id, group)

    def _payable(self, plan: InvoicePlan, planned: Decimal) -> Decimal:
        invoice = self.company.entities["Invoice"].get(plan.invoice_id)
        if invoice is None or plan.invoice_id in self.company.voided:
            return ZERO
        balance: Decimal = invoice["Balance"]
        return balance if plan.fate == "paid" else min(planned, balance)

    def _schedule_payment(
        self, customer_id: str, group: list[tuple[datetime, InvoicePlan, Decimal]]
    ) -> None:
        rng = self.rng
        when = max(entry[0] for entry in group)
        bits = bits_of(rng)
        overpay = money(Decimal(1 + below(bits, 49))) if rng.random() < 0.02 else ZERO
        method = choice(bits, ("Check", "ACH", "Card"))
        reference = str(1000 + below(bits, 98999)) if method == "Check" else None

        def action() -> None:
            # Taxes and discounts are only known once QBO computed the invoice: a customer
            # who pays in full pays what the invoice says.
            paid = [(plan, self._payable(plan, amount)) for _, plan, amount in group]
            paid = [(plan, amount) for plan, amount in paid if amount > 0]
            if not paid:
                return
            body: JSON = {
                "CustomerRef": {"value": customer_id},
                "TotalAmt": sum((a for _, a in paid), ZERO) + overpay,
                "TxnDate": self._when.astimezone(self.company.tz).date().isoformat(),
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": plan.invoice_id, "TxnType": "Invoice"}],
                    }
                    for plan, amount in paid
                ],
            }
            if reference:
                body["PaymentRefNum"] = reference
            self.writes.create_payment(body, at=self._when)

        self.at(when, action)

    def make_unapplied_payments(self) -> None:
        rng = self.rng
        customer_ids = list(self.customer_terms)
        for _ in range(max(1, len(customer_ids) // 25)):
            customer_id = rng.choice(customer_ids)
            when = self.now - timedelta(days=rng.randrange(1, 200), minutes=rng.randrange(0, 600))
            amount = money(Decimal(rng.randrange(50, 900)))

            def action(customer_id: str = customer_id, amount: Decimal = amount) -> None:
                self.writes.create_payment(
                    {
                        "CustomerRef": {"value": customer_id},
                        "TotalAmt": amount,
                        "TxnDate": self._when.astimezone(self.company.tz).date().isoformat(),
                        "PrivateNote": "Prepayment",
                        "Line": [],
                    },
                    at=self._when,
                )

            self.at(when, action)

    def deactivate_customers(self) -> None:
        rng = self.rng
        settled = [c for c in self.company.entities["Customer"].values() if c["Balance"] == 0]
        chosen = [c for c in settled if rng.random() < 0.06]
        if not chosen and settled:
            chosen = [rng.choice(settled)]  # every company has at least one former customer
        for customer in chosen:
            last = datetime.fromisoformat(customer["MetaData"]["LastUpdatedTime"])
            when = min(last + timedelta(days=rng.randrange(1, 30)), self.now - timedelta(minutes=1))
            if when <= last:
                continue
            self.company.update_customer(
                {
                    "Id": customer["Id"],
                    "SyncToken": customer["SyncToken"],
                    "sparse": True,
                    "Active": False,
                },
                sparse=True,
                at=when,
            )
