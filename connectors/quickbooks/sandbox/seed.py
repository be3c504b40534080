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
from typing import Any

from . import realism
from . import seednames as names
from .catalog import ITEMS
from .company import CREDIT_LINK_NOTE, Company
from .money import ZERO, money
from .seedpayments import InvoicePlan, PlannerBase
from .seedwriter import seed_writes

JSON = dict[str, Any]

HISTORY_DAYS = 540  # eighteen months

_CURRENCY_WEIGHTS = (("USD", 82), ("CAD", 7), ("EUR", 6), ("GBP", 5))
_TERM_WEIGHTS = (("1", 10), ("2", 20), ("3", 55), ("4", 15))
_TERM_DAYS = {"1": 0, "2": 15, "3": 30, "4": 60}
#: What invoices sell (everything but the late fee), in catalogue order as ``rng.sample`` needs.
_SOLD_ITEMS = [i for i in ITEMS if ITEMS[i].name != "Late Fee"]
_LINE_COUNTS = (1, 1, 2, 2, 3, 4)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


def _business_time(rng: random.Random, day: datetime) -> datetime:
    """A moment during office hours on ``day`` (company-local)."""
    local = datetime.combine(day.date(), time(8, 0), tzinfo=day.tzinfo)
    return local + timedelta(seconds=rng.randrange(0, 10 * 3600))


class _Planner(PlannerBase):
    """Plans customers and invoices, then replays every event in time order."""

    def run(self) -> None:
        self.make_customers()
        plans = self.make_invoices()
        self.make_payments(plans)
        self.make_unapplied_payments()
        # Time order, creation order among simultaneous events: the tuples compare by time, then
        # by the unique sequence number, so the actions are never compared (and no key tuple
        # is built per event).
        self.events.sort()
        for when, _, action in self.events:
            self._when = when
            action()
        self.deactivate_customers()

    # -- customers ---------------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng
        count = max(3, self.invoice_count // 8)
        start = self.now - timedelta(days=HISTORY_DAYS + 60)
        used: set[str] = set()
        self.customer_terms = {}
        self.customer_email: dict[str, bool] = {}
        self.customer_weight: list[float] = []
        bodies: list[tuple[datetime, JSON, str]] = []
        for index in range(count):
            if rng.random() < 0.65:
                name = f"{rng.choice(names.ADJ)} {rng.choice(names.NOUN)}{rng.choice(names.SUFFIX)}"
                given, family = rng.choice(names.FIRST), rng.choice(names.LAST)
                company_name: str | None = name
            else:
                given, family = rng.choice(names.FIRST), rng.choice(names.LAST)
                name = f"{given} {family}"
                company_name = None
            base = name
            suffix = 2
            while name.lower() in used:
                name = f"{base} ({suffix})"
                suffix += 1
            used.add(name.lower())
            currency = _weighted(rng, _CURRENCY_WEIGHTS)
            # Most customers pay in the company's home currency, wherever it is.
            home = self.company.home_currency
            if home != "USD" and currency in ("USD", home):
                currency = home if currency == "USD" else "USD"
            city, state, postcode = rng.choice(names.CITIES)
            address = {
                "Line1": f"{rng.randrange(10, 9999)} {rng.choice(names.STREETS)} St.",
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
                    "FreeFormNumber": f"({rng.randrange(201, 989)}) 555-{rng.randrange(1000, 9999)}"
                },
                "PreferredDeliveryMethod": "Email" if has_email and rng.random() < 0.8 else "Print",
                "Taxable": False,
            }
            if company_name:
                body["CompanyName"] = company_name
            if has_email:
                slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "customer"
                body["PrimaryEmailAddr"] = {
                    "Address": f"billing@{slug}.{rng.choice(names.EMAIL_DOMAINS)}"
                }
            term = _weighted(rng, _TERM_WEIGHTS)
            body["SalesTermRef"] = {"value": term}
            created = start + timedelta(seconds=rng.randrange(0, 60 * 86400))
            v4id = "00209" + "".join(rng.choice("0123456789abcdef") for _ in range(33))
            bodies.append((created, body, v4id))
            self.customer_weight.append(rng.paretovariate(1.6))
        realism.profile_customers(self.company, self.aux, [body for _, body, _ in bodies])
        bodies.sort(key=lambda item: item[0])
        for created, body, v4id in bodies:
            customer = self.company.create_customer(body, at=created, v4id=v4id)
            self.customer_terms[customer["Id"]] = body["SalesTermRef"]["value"]
            self.customer_email[customer["Id"]] = "PrimaryEmailAddr" in body

    # -- invoices ----------------------------------------------------------------------

    def _lines(self) -> tuple[list[JSON], Decimal]:
        rng = self.rng
        lines: list[JSON] = []
        total = ZERO
        for item_id in rng.sample(_SOLD_ITEMS, k=rng.choice(_LINE_COUNTS)):
            item = ITEMS[item_id]
            if item.name in ("Consulting", "Design", "Services"):
                qty = Decimal(rng.randrange(2, 80)) / 2
            elif item.name == "Supplies":
                qty = Decimal(rng.randrange(1, 40))
            else:
                qty = Decimal(rng.randrange(1, 5))
            unit = item.unit_price
            if rng.random() < 0.25:
                unit = money(unit * Decimal(rng.randrange(80, 130)) / 100)
            amount = money(qty * unit)
            total += amount
            lines.append(
                {
                    "Description": item.description,
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item.id},
                        "Qty": qty,
                        "UnitPrice": unit,
                        "TaxCodeRef": {"value": "NON"},
                    },
                }
            )
        return lines, total

    def make_invoices(self) -> list[InvoicePlan]:
        rng = self.rng
        customer_ids = list(self.customer_terms)
        # What ``choices(weights=...)`` accumulates on every call (same draws, same results),
        # computed once instead of once per invoice.
        cumulative = list(accumulate(self.customer_weight))
        # ``rng.choices(customer_ids, cum_weights=cumulative, k=1)[0]`` inlined: the same single
        # ``random()`` draw and bisect, without building the argument checks and list each time.
        weight_total = cumulative[-1] + 0.0 if cumulative else 0.0
        last = len(customer_ids) - 1
        # A customer's first invoice comes an hour after it signed up at the earliest.
        earliest = {
            cid: datetime.fromisoformat(
                self.company.entities["Customer"][cid]["MetaData"]["CreateTime"]
            )
            + timedelta(hours=1)
            for cid in customer_ids
        }
        tz = self.company.tz
        plans: list[InvoicePlan] = []
        for index in range(self.invoice_count):
            customer_id = customer_ids[
                bisect_right(cumulative, rng.random() * weight_total, 0, last)
            ]
            age_days = rng.randrange(1, HISTORY_DAYS)
            created = _business_time(rng, self.now - timedelta(days=age_days))
            customer = self.company.entities["Customer"][customer_id]
            created = max(created, earliest[customer_id])
            lines, total = self._lines()
            realism.decorate(self.company, self.aux, lines, customer)
            term = self.customer_terms[customer_id]
            body: JSON = {
                "CustomerRef": {"value": customer_id},
                "TxnDate": created.astimezone(tz).date().isoformat(),
                "SalesTermRef": {"value": term},
                "Line": lines,
                "CustomerMemo": {"value": "Thank you for your business!"},
            }
            if "PrimaryEmailAddr" in customer:
                body["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
            days = _TERM_DAYS[term]
            overdue = age_days > days + 10
            roll = rng.random()
            if roll < 0.015:
                fate = "voided"
            elif roll < 0.03:
                fate = "deleted"
            elif overdue:
                fate = "paid" if roll < 0.84 else ("partial" if roll < 0.91 else "open")
            else:
                fate = "paid" if roll < 0.35 else ("partial" if roll < 0.42 else "open")
            plan = InvoicePlan(index, customer_id, created, body, total, fate)
            if fate in ("paid", "partial", "open") and rng.random() < 0.04:
                plan.credit = money(total * Decimal(rng.randrange(10, 35)) / 100)
                plan.credit_applied = rng.random() < 0.7
            plans.append(plan)
            self.at(created, self._create_invoice_action(plan))
            if body.get("BillEmail") and rng.random() < 0.85:
                self.at(created + timedelta(minutes=rng.randrange(1, 90)), self._send_action(plan))
            if fate in ("voided", "deleted"):
                span = max(60.0, (self.now - created).total_seconds() - 120)
                when = created + timedelta(seconds=rng.uniform(3600, span))
                self.at(when, self._remove_action(plan, fate))
            if plan.credit:
                credited = created + timedelta(
                    days=rng.randrange(1, 8), minutes=rng.randrange(0, 600)
                )
                self.at(credited, self._credit_action(plan))
                if plan.credit_applied:
                    self.at(credited + timedelta(seconds=30), self._link_credit_action(plan))
        return plans

    def _create_invoice_action(self, plan: InvoicePlan) -> Callable[[], None]:
        def action() -> None:
            invoice = self.writes.create_invoice(plan.body, at=self._when, source="seed")
            plan.invoice_id = invoice["Id"]

        return action

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
    planner.aux = random.Random(f"profile-{seed}")  # noqa: S311 - reproducible data
    planner.run()
