"""Deterministic history of a small service business, replayed through the company's own rules.

Rather than writing final payloads directly, the generator plans eighteen months of events
(customers signing up, invoices raised and emailed, payments - some covering several invoices,
some partial, some unapplied - credit memos applied through QBO's zero-amount "link" payments,
voids and deletions) and replays them in time order through :class:`Company`. Balances, SyncTokens,
LinkedTxn and LastUpdatedTime therefore come out exactly as the live API would leave them, and
ids are assigned in creation order as on the real service.

Only ``random.Random(seed)`` and ``now`` feed the plan, so the same inputs give byte-identical
state.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter
from typing import Any

from . import realism
from . import seednames as names
from .catalog import ITEMS
from .company import CREDIT_LINK_NOTE, Company
from .money import ZERO, money
from .seeddraws import Bits, Weighted, below, bits_of, choice, sample_small
from .seedpayments import InvoicePlan, InvoiceRequest, PlannerBase, _Event
from .seedshared import PlannedLine
from .seedwriter import SeedWriter, seed_writes

JSON = dict[str, Any]

HISTORY_DAYS = 540  # eighteen months

_CURRENCY_WEIGHTS = (("USD", 82), ("CAD", 7), ("EUR", 6), ("GBP", 5))
_TERM_WEIGHTS = (("1", 10), ("2", 20), ("3", 55), ("4", 15))
_TERM_DAYS = {"1": 0, "2": 15, "3": 30, "4": 60}
#: What invoices sell (everything but the late fee), in catalogue order as ``rng.sample`` needs.
_SOLD_ITEMS = [i for i in ITEMS if ITEMS[i].name != "Late Fee"]
_LINE_COUNTS = (1, 1, 2, 2, 3, 4)


_CURRENCIES = Weighted(_CURRENCY_WEIGHTS)
_TERMS = Weighted(_TERM_WEIGHTS)
_HEX = "0123456789abcdef"
#: What ``Decimal(rng.randrange(...))`` gave for each item's quantities, by the index drawn.
_HALF_HOURS = [Decimal(n) / 2 for n in range(2, 80)]
_SUPPLIES = [Decimal(n) for n in range(1, 40)]
_UNITS = [Decimal(n) for n in range(1, 5)]
#: ``Decimal(n)`` for the percentages drawn (80-129 of a unit price, 10-34 of a credit).
_PERCENTS = [Decimal(n) for n in range(80, 130)]
_CREDIT_PERCENTS = [Decimal(n) for n in range(10, 35)]
_QTY_TABLES = {
    item_id: (
        _HALF_HOURS
        if ITEMS[item_id].name in ("Consulting", "Design", "Services")
        else _SUPPLIES
        if ITEMS[item_id].name == "Supplies"
        else _UNITS
    )
    for item_id in _SOLD_ITEMS
}


#: Positional ``timedelta(days, seconds)`` below: keyword arguments cost twice as much to
#: parse, and the seed makes some 400,000 of them for 100,000 invoices.
_HALF_MINUTE = timedelta(seconds=30)


def _time_order(events: list[_Event]) -> None:
    """Sort events by time, creation order among simultaneous ones.

    The list is in creation order and the sort is stable, so sorting by time alone gives the
    order of the (time, sequence) tuples, at a third of the cost: one datetime comparison
    per step instead of a tuple's equality test and then its ordering.
    """
    events.sort(key=itemgetter(0))


def _fate(roll: float, overdue: bool) -> str:
    """What becomes of an invoice, from one draw: most overdue ones are paid by now."""
    if roll < 0.015:
        return "voided"
    if roll < 0.03:
        return "deleted"
    if overdue:
        return "paid" if roll < 0.84 else ("partial" if roll < 0.91 else "open")
    return "paid" if roll < 0.35 else ("partial" if roll < 0.42 else "open")


def _office_opening(now: datetime, age_days: int) -> datetime:
    """08:00 company-local on the day ``age_days`` before ``now`` (office hours start)."""
    day = now - timedelta(days=age_days)
    return datetime.combine(day.date(), time(8, 0), tzinfo=day.tzinfo)


class _Planner(PlannerBase):
    """Plans customers and invoices, then replays every event in time order."""

    def run(self) -> None:
        self.make_customers()
        plans = self.make_invoices()
        self.make_payments(plans)
        self.make_unapplied_payments()
        _time_order(self.events)
        for when, _, action in self.events:
            self._when = when
            action()
        self.deactivate_customers()

    # -- customers ---------------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng
        bits = bits_of(rng)
        count = max(3, self.invoice_count // 8)
        start = self.now - timedelta(days=HISTORY_DAYS + 60)
        used: set[str] = set()
        self.customer_terms = {}
        self.customer_email: dict[str, bool] = {}
        self.customer_weight: list[float] = []
        bodies: list[tuple[datetime, JSON, str]] = []
        for index in range(count):
            if rng.random() < 0.65:
                adj, noun = choice(bits, names.ADJ), choice(bits, names.NOUN)
                name = f"{adj} {noun}{choice(bits, names.SUFFIX)}"
                given, family = choice(bits, names.FIRST), choice(bits, names.LAST)
                company_name: str | None = name
            else:
                given, family = choice(bits, names.FIRST), choice(bits, names.LAST)
                name = f"{given} {family}"
                company_name = None
            base = name
            suffix = 2
            while name.lower() in used:
                name = f"{base} ({suffix})"
                suffix += 1
            used.add(name.lower())
            currency = _CURRENCIES.draw(rng)
            # Most customers pay in the company's home currency, wherever it is.
            home = self.company.home_currency
            if home != "USD" and currency in ("USD", home):
                currency = home if currency == "USD" else "USD"
            city, state, postcode = choice(bits, names.CITIES)
            address = {
                "Line1": f"{10 + below(bits, 9989)} {choice(bits, names.STREETS)} St.",
                "City": city,
                "CountrySubDivisionCode": state,
                "PostalCode": postcode,
            }
            has_email = rng.random() >= 0.12
            body: JSON = {
                "DisplayName": name,
                "GivenName": given,
                "FamilyName": family,
                "CurrencyRef": {"value": currency},
                "BillAddr": {"Id": str(100 + index), **address},
                "PrimaryPhone": {
                    "FreeFormNumber": f"({201 + below(bits, 788)}) 555-{1000 + below(bits, 8999)}"
                },
                "PreferredDeliveryMethod": "Email" if has_email and rng.random() < 0.8 else "Print",
                "Taxable": False,
            }
            if company_name:
                body["CompanyName"] = company_name
            if has_email:
                slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "customer"
                body["PrimaryEmailAddr"] = {
                    "Address": f"billing@{slug}.{choice(bits, names.EMAIL_DOMAINS)}"
                }
            term = _TERMS.draw(rng)
            body["SalesTermRef"] = {"value": term}
            created = start + timedelta(0, below(bits, 60 * 86400))
            v4id = "00209" + "".join([_HEX[below(bits, 16)] for _ in range(33)])
            bodies.append((created, body, v4id))
            self.customer_weight.append((1.0 - rng.random()) ** (-1.0 / 1.6))
        realism.profile_customers(self.company, self.aux, [body for _, body, _ in bodies])
        bodies.sort(key=lambda item: item[0])
        for created, body, v4id in bodies:
            customer = self.company.create_customer(body, at=created, v4id=v4id)
            self.customer_terms[customer["Id"]] = body["SalesTermRef"]["value"]
            self.customer_email[customer["Id"]] = "PrimaryEmailAddr" in body

    # -- invoices ----------------------------------------------------------------------

    def _lines(self, bits: Bits) -> tuple[list[PlannedLine], Decimal]:
        rng = self.rng
        lines: list[PlannedLine] = []
        total = ZERO
        for item_id in sample_small(bits, _SOLD_ITEMS, choice(bits, _LINE_COUNTS)):
            item = ITEMS[item_id]
            quantities = _QTY_TABLES[item_id]
            qty = quantities[below(bits, len(quantities))]
            unit = item.unit_price
            if rng.random() < 0.25:
                unit = money(unit * _PERCENTS[below(bits, 50)] / 100)
            amount = money(qty * unit)
            total += amount
            lines.append((item_id, qty, unit, amount))
        return lines, total

    def make_invoices(self) -> list[InvoicePlan]:
        rng = self.rng
        draw = rng.random
        bits = bits_of(rng)
        customer_ids = list(self.customer_terms)
        customers = [self.company.entities["Customer"][cid] for cid in customer_ids]
        terms = [self.customer_terms[cid] for cid in customer_ids]
        # ``rng.choices(customer_ids, weights=self.customer_weight, k=1)[0]`` inlined: the
        # same single ``random()`` draw and bisect, with the weights accumulated once.
        cumulative = list(accumulate(self.customer_weight))
        weight_total = cumulative[-1] + 0.0 if cumulative else 0.0
        last = len(customer_ids) - 1
        # A customer's first invoice comes an hour after it signed up at the earliest.
        earliest = [
            datetime.fromisoformat(c["MetaData"]["CreateTime"]) + timedelta(hours=1)
            for c in customers
        ]
        # Signed-up stamps carry a fixed offset, so comparing one with an invoice's time asks
        # the company's zone for an offset: a wall-clock bound a day past the latest of them
        # (in the company's zone) rules the clamp out for nearly every invoice cheaply.
        clamp_before = (
            max(earliest).astimezone(self.company.tz) + timedelta(days=1) if earliest else None
        )
        # Office hours open on one of some 540 days: each is worked out once.
        openings = [
            _office_opening(self.now, age) if age else self.now for age in range(HISTORY_DAYS)
        ]
        # An invoice made in office hours is dated its opening's day (the opening's wall clock
        # plus under ten hours): worked out once per day rather than once per invoice.
        opening_dates = [opening.date().isoformat() for opening in openings]
        tz = self.company.tz
        plans: list[InvoicePlan] = []
        for index in range(self.invoice_count):
            pick = bisect_right(cumulative, draw() * weight_total, 0, last)
            customer = customers[pick]
            age_days = 1 + below(bits, HISTORY_DAYS - 1)
            created = openings[age_days] + timedelta(0, below(bits, 36000))
            txn_date = opening_dates[age_days]
            if (clamp_before is None or created < clamp_before) and created < earliest[pick]:
                created = earliest[pick]
                txn_date = created.astimezone(tz).date().isoformat()
            lines, total = self._lines(bits)
            decoration = realism.draw_decoration(self.aux)
            term = terms[pick]
            email = (
                customer["PrimaryEmailAddr"]["Address"] if "PrimaryEmailAddr" in customer else None
            )
            fate = _fate(draw(), age_days > _TERM_DAYS[term] + 10)
            plan = InvoicePlan(index, customer["Id"], created, total, fate)
            plan.request = (customer, txn_date, term, email, lines, decoration)
            if fate in ("paid", "partial", "open") and draw() < 0.04:
                plan.credit = money(total * _CREDIT_PERCENTS[below(bits, 25)] / 100)
                plan.credit_applied = draw() < 0.7
            plans.append(plan)
            self._schedule_invoice(plan, bits, email is not None)
        return plans

    def _schedule_invoice(self, plan: InvoicePlan, bits: Bits, billed: bool) -> None:
        """The invoice's events: created, maybe emailed (``billed``: it has a BillEmail),
        voided or deleted, credited."""
        draw = self.rng.random
        created = plan.created
        self.at(created, self._create_invoice_action(plan))
        if billed and draw() < 0.85:
            sent = created + timedelta(0, 60 + 60 * below(bits, 89))  # 1-89 minutes later
            self.at(sent, self._send_action(plan))
        if plan.fate in ("voided", "deleted"):
            span = max(60.0, (self.now - created).total_seconds() - 120)
            # ``rng.uniform(3600, span)``
            when = created + timedelta(0, 3600 + (span - 3600) * draw())
            self.at(when, self._remove_action(plan, plan.fate))
        if plan.credit:
            days = 1 + below(bits, 7)
            credited = created + timedelta(days, 60 * below(bits, 600))
            self.at(credited, self._credit_action(plan))
            if plan.credit_applied:
                self.at(credited + _HALF_MINUTE, self._link_credit_action(plan))

    def _create_invoice_action(self, plan: InvoicePlan) -> Callable[[], None]:
        def action() -> None:
            request = plan.request
            assert request is not None  # each invoice is created once
            plan.invoice_id = self._write_invoice(request)["Id"]
            plan.request = None  # spent

        return action

    def _write_invoice(self, request: InvoiceRequest) -> JSON:
        """The planned invoice's request, built when it is written rather than planned: a
        hundred thousand requests built up front filled some 200 MB that the writes then
        read in time order, scattered through memory; built here, each is fresh in the
        cache and freed at once, its memory reused for the next. The bulk writer takes an
        invoice of item lines alone (four in five) from the plan, without request lines."""
        customer, txn_date, term, email, planned, decoration = request
        bulk = self.bulk if decoration is realism.PLAIN else None
        body: JSON = {
            "CustomerRef": {"value": customer["Id"]},
            "TxnDate": txn_date,
            "SalesTermRef": {"value": term},
        }
        if bulk is None:
            body["Line"] = realism.request_lines(self.company, planned, customer, decoration)
        body["CustomerMemo"] = {"value": "Thank you for your business!"}
        if email is not None:
            body["BillEmail"] = {"Address": email}
        if bulk is None:
            return self.writes.create_invoice(body, at=self._when, source="seed")
        codes = realism.tax_codes(self.company, [line[0] for line in planned], customer)
        return bulk.create_planned_invoice(body, planned, codes, at=self._when)

    def _send_action(self, plan: InvoicePlan) -> Callable[[], None]:
        def action() -> None:
            if plan.invoice_id in self.company.entities["Invoice"]:
                self.writes.send_invoice(plan.invoice_id, None, at=self._when, source="seed")

        return action

    def _remove_action(self, plan: InvoicePlan, fate: str) -> Callable[[], None]:
        def action() -> None:
            invoice = self.company.entities["Invoice"][plan.invoice_id]
            body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
            if fate == "voided":
                self.company.void_invoice(body, at=self._when)
            else:
                self.company.delete_transaction("Invoice", body, at=self._when)

        return action

    def _credit_action(self, plan: InvoicePlan) -> Callable[[], None]:
        def action() -> None:
            memo = self.company.create_credit_memo(
                {
                    "CustomerRef": {"value": plan.customer_id},
                    "TxnDate": self._when.astimezone(self.company.tz).date().isoformat(),
                    "Line": [
                        {
                            "Description": "Goodwill credit",
                            "Amount": plan.credit,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {
                                "ItemRef": {"value": "1"},
                                "TaxCodeRef": {"value": self.company.default_tax_code()},
                            },
                        }
                    ],
                },
                at=self._when,
            )
            plan.memo_id = memo["Id"]

        return action

    def _link_credit_action(self, plan: InvoicePlan) -> Callable[[], None]:
        """QBO applies a credit memo through a zero-amount payment linking both documents."""

        def action() -> None:
            self.writes.create_payment(
                {
                    "CustomerRef": {"value": plan.customer_id},
                    "TotalAmt": 0,
                    "TxnDate": self._when.astimezone(self.company.tz).date().isoformat(),
                    "PrivateNote": CREDIT_LINK_NOTE,
                    "Line": [
                        {
                            "Amount": plan.credit,
                            "LinkedTxn": [{"TxnId": plan.invoice_id, "TxnType": "Invoice"}],
                        },
                        {
                            "Amount": plan.credit,
                            "LinkedTxn": [{"TxnId": plan.memo_id, "TxnType": "CreditMemo"}],
                        },
                    ],
                },
                at=self._when,
            )

        return action

    # -- payments ----------------------------------------------------------------------


def seed_company(
    company: Company, *, seed: int, invoices: int, now: datetime, replay: bool = False
) -> None:
    """Fill an empty ``company`` with a deterministic history ending just before ``now``.

    ``replay`` sends every write through the API rules (the slow reference the bulk path is
    tested against); otherwise the common writes take the bulk path (seedwriter.py).
    """
    if invoices < 0:
        raise ValueError("invoices must be >= 0")
    planner = _Planner(company, random.Random(seed), now, invoices)  # noqa: S311 - reproducible
    planner.writes = seed_writes(company, replay=replay)
    planner.bulk = planner.writes if isinstance(planner.writes, SeedWriter) else None
    planner.aux = random.Random(f"profile-{seed}")  # noqa: S311 - reproducible data
    planner.run()
