"""Deterministic generator for a realistic small New Zealand business.

The same ``seed`` and ``now`` always give byte-identical state: every random
choice comes from one ``random.Random`` seeded with a string (stable across
processes, unlike ``hash``), ids are drawn from it too, and no wall-clock value
is read.  The first few invoices are forced into the awkward cases syncd must
handle (overdue, part-paid, no email on the contact, foreign currency...) so
even a tiny seed exercises them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from .clock import SandboxClock
from .fastrand import FastRandom, no_cyclic_gc
from .models import Contact, CreditNote, Invoice, LineItem, Payment
from .money import cents, text
from .organisation import Organisation
from .prepaid import seed_prepaid
from .regions import NZ, Region
from .regions import region as region_named
from .seed_catalogue import BILL_LINES, CATALOGUE, FORCED
from .seed_common import STAFF, created_record, stamp
from .seed_contacts import decorate
from .seed_names import NZ_PLACES, NZ_SUFFIXES, NZ_SUPPLIERS, PLACES, SUFFIXES, SUPPLIERS
from .seed_parties import PartyMaker
from .totals import reprice_credit_note, reprice_invoice


def _rng(seed: str) -> FastRandom:
    """Deterministic test data, not secrets: a seeded PRNG is the point.

    :class:`FastRandom` draws exactly what ``random.Random`` would, only faster.
    """
    return FastRandom(seed)


class _Ids:
    def __init__(self, rng: FastRandom) -> None:
        self._rng = rng

    def __call__(self) -> str:
        return self._rng.uuid4()


def tenant_for_seed(seed: int) -> str:
    return str(uuid.UUID(int=_rng(f"xero-sandbox-tenant:{seed}").getrandbits(128), version=4))


class _Builder(PartyMaker):
    def __init__(self, org: Organisation, rng: FastRandom, now: datetime) -> None:
        self.org = org
        self.region: Region = org.region
        code = org.region.code
        self.places = PLACES.get(code, NZ_PLACES)
        self.suffixes = SUFFIXES.get(code, NZ_SUFFIXES)
        self.supplier_names = SUPPLIERS.get(code, NZ_SUPPLIERS)
        self.domain = org.region.email_domain
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.yesterday = self.today - timedelta(days=1)
        self.uid = _Ids(rng)
        self.customers: list[Contact] = []
        self.suppliers: list[Contact] = []
        # Worked out once: the edition's rates do not change while seeding.
        self.tax_rates = org.region.rates()
        self._currency_rates: dict[str, Decimal] = {}

    def currency_rate(self, currency: str) -> Decimal:
        rate = self._currency_rates.get(currency)
        if rate is None:
            rate = self._currency_rates[currency] = self.region.currency_rate(currency)
        return rate

    # ------------------------------------------------------------------ lines
    def sales_lines(self, currency: str, lat: str) -> list[LineItem]:
        rng = self.rng
        rate = self.currency_rate(currency)
        tax = self.region.sales_tax if currency == self.region.currency else self.region.export_tax
        if lat == "NoTax":
            tax = self.region.no_tax
        lines = []
        for product in rng.sample(CATALOGUE, rng.randint(1, 3)):
            if product.code == "CONS-HR":
                qty = Decimal(rng.randint(2, product.max_qty * 2)) / 2
            else:
                qty = Decimal(rng.randint(1, product.max_qty))
            price = product.price or Decimal(rng.randint(8500, 90000)) / 100
            lines.append(
                LineItem(
                    line_item_id=self.uid(),
                    description=product.description,
                    quantity=qty,
                    unit_amount=cents(price * rate),
                    account_code=product.account,
                    tax_type=tax,
                    item_code=product.code,
                )
            )
        return lines

    def bill_lines(self) -> list[LineItem]:
        rng = self.rng
        out = []
        for desc, account in rng.sample(BILL_LINES, rng.randint(1, 2)):
            out.append(
                LineItem(
                    line_item_id=self.uid(),
                    description=desc,
                    quantity=Decimal(1),
                    unit_amount=Decimal(rng.randint(2500, 250000)) / 100,
                    account_code=account,
                    tax_type=self.region.purchase_tax,
                )
            )
        return out

    # --------------------------------------------------------------- invoices
    def pay(self, inv: Invoice, amount: Decimal, on: date, *, deleted: bool = False) -> datetime:
        at = max(stamp(self.rng, on), inv.created + timedelta(minutes=5))
        payment = Payment(
            payment_id=self.uid(),
            invoice_id=inv.invoice_id,
            date=on,
            amount=cents(amount),
            currency_rate=inv.currency_rate,
            reference=f"DD {self.rng.randint(10000, 99999)}" if self.rng.random() < 0.4 else "",
            status="AUTHORISED",
            updated=at,
            is_reconciled=self.rng.random() < 0.8,
        )
        self.org.payments[payment.payment_id] = payment
        inv.payment_ids.append(payment.payment_id)
        self.org.settle(inv, at)
        self.org.add_history(
            inv,
            "Payment Received",
            f"Payment received on {on.isoformat()} for {text(payment.amount)}.",
            self.rng.choice(STAFF), at,
        )  # fmt: skip
        if deleted:
            later = at + timedelta(days=self.rng.randint(1, 5), minutes=self.rng.randint(1, 600))
            later = min(later, self.now - timedelta(minutes=1))
            payment.status = "DELETED"
            payment.updated = later
            self.org.settle(inv, later)
            self.org.add_history(
                inv, "Payment Deleted", "Payment dishonoured.", self.rng.choice(STAFF), later
            )
            return later
        return at

    def credit(self, inv: Invoice, amount: Decimal, on: date) -> datetime:
        at = max(stamp(self.rng, on), inv.created + timedelta(minutes=5))
        note = CreditNote(
            credit_note_id=self.uid(),
            number="",
            type="ACCRECCREDIT",
            contact_id=inv.contact_id,
            date=on,
            status="AUTHORISED",
            line_amount_types="NoTax",
            line_items=[
                LineItem(
                    line_item_id=self.uid(),
                    description="Credit - service adjustment",
                    quantity=Decimal(1),
                    unit_amount=cents(amount),
                    account_code="200",
                    tax_type=self.region.no_tax,
                )
            ],
            currency=inv.currency,
            currency_rate=inv.currency_rate,
            updated=at,
        )
        reprice_credit_note(note, self.tax_rates)
        self.org.credit_notes[note.credit_note_id] = note
        self.org.allocate_credit(note, inv, note.total, on, at)
        note.updated = at
        return at

    def random_kind(self, age: int) -> str:
        r = self.rng.random()
        if r < 0.03:
            return "deleted"
        if r < 0.08:
            return "voided"
        recent = age <= 30
        if r < (0.20 if recent else 0.095):
            return "draft"
        if r < (0.26 if recent else 0.105):
            return "submitted"
        p_paid = min(0.93, 0.15 + age / 100)
        if self.rng.random() < p_paid:
            return "credited" if self.rng.random() < 0.06 else "paid"
        roll = self.rng.random()
        if roll < 0.22:
            return "partial"
        if roll < 0.25:
            return "bounced"
        return "overdue"

    def sales_invoice(self, index: int) -> Invoice:
        rng = self.rng
        kind = FORCED[index] if index < len(FORCED) else ""
        age = rng.randint(40, 200) if kind else rng.randint(1, 548)
        day = self.today - timedelta(days=age)
        if kind == "no_email":
            contact = self.customers[1]
        elif kind == "person_email":
            contact = self.customers[2]
        elif kind == "foreign":
            contact = self.customers[4]
        elif kind:
            contact = self.customers[0]
        else:
            contact = rng.choice(self.customers)
            kind = self.random_kind(age)
        currency = contact.default_currency or self.region.currency
        if currency == self.region.currency:
            lat = rng.choices(("Exclusive", "Inclusive", "NoTax"), (80, 15, 5))[0]
        else:
            lat = "NoTax" if rng.random() < 0.6 else "Exclusive"
        terms = rng.choice((7, 14, 20, 20, 30))
        created = stamp(rng, day)
        inv = Invoice(
            invoice_id=self.uid(),
            type="ACCREC",
            number="",
            reference=rng.choice(
                ("", "", f"PO {rng.randint(1000, 9999)}", "Monthly services", "Project")
            ),
            contact_id=contact.contact_id,
            date=day,
            due_date=day + timedelta(days=terms),
            status="AUTHORISED",
            line_amount_types=lat,
            line_items=self.sales_lines(currency, lat),
            currency=currency,
            currency_rate=self.currency_rate(currency),
            created=created,
            updated=created,
        )
        reprice_invoice(inv, self.tax_rates)
        inv.history.append(created_record(inv, contact, rng.choice(STAFF), created))
        self._apply_kind(inv, kind, contact, terms)
        return inv

    def _apply_kind(self, inv: Invoice, kind: str, contact: Contact, terms: int) -> None:
        rng = self.rng
        last = inv.created

        def pay_day(offset_max: int) -> date:
            return min(inv.date + timedelta(days=rng.randint(0, offset_max)), self.yesterday)

        if kind not in ("draft", "deleted", "submitted"):
            approved = inv.created + timedelta(minutes=1)
            self.org.add_history(
                inv, "Approved", f"Approved for {inv.total}.", rng.choice(STAFF), approved
            )
        if kind in ("draft", "deleted"):
            inv.status = "DRAFT"
        elif kind == "submitted":
            inv.status = "SUBMITTED"
        if kind == "deleted":
            last = min(
                last + timedelta(days=rng.randint(0, 3), minutes=7), self.now - timedelta(minutes=1)
            )
            inv.status = "DELETED"
            self.org.add_history(inv, "Deleted", "Invoice deleted.", rng.choice(STAFF), last)
        elif kind == "voided":
            last = min(
                last + timedelta(days=rng.randint(1, 20), minutes=3),
                self.now - timedelta(minutes=1),
            )
            inv.status = "VOIDED"
            self.org.add_history(inv, "Voided", "Invoice voided.", rng.choice(STAFF), last)
        elif kind == "paid":
            if rng.random() < 0.18:
                first = cents(inv.total * Decimal(rng.randint(30, 70)) / 100)
                last = self.pay(inv, first, pay_day(terms))
                last = max(last, self.pay(inv, inv.amount_due, pay_day(terms + 25)))
            else:
                last = self.pay(inv, inv.amount_due, pay_day(terms + 25))
        elif kind == "credited":
            share = Decimal(rng.choice((25, 40, 60, 100))) / 100
            last = self.credit(inv, cents(inv.total * share), pay_day(terms))
            if inv.amount_due > 0:
                last = max(last, self.pay(inv, inv.amount_due, pay_day(terms + 25)))
        elif kind == "partial":
            last = self.pay(
                inv, cents(inv.total * Decimal(rng.randint(20, 70)) / 100), pay_day(terms)
            )
        elif kind == "bounced":
            last = self.pay(inv, inv.amount_due, pay_day(terms), deleted=True)
        if inv.status in ("SUBMITTED", "AUTHORISED", "PAID") and contact.email_recipients():
            inv.sent_to_contact = rng.random() < 0.85
        inv.updated = max(last, inv.created)

    def bill(self) -> Invoice:
        rng = self.rng
        supplier = rng.choice(self.suppliers)
        age = rng.randint(1, 548)
        day = self.today - timedelta(days=age)
        created = stamp(rng, day)
        inv = Invoice(
            invoice_id=self.uid(),
            type="ACCPAY",
            number=rng.choice(
                ("", f"SI-{rng.randint(10000, 99999)}", f"{rng.randint(1000, 9999)}")
            ),
            reference="",
            contact_id=supplier.contact_id,
            date=day,
            due_date=day + timedelta(days=20),
            status="AUTHORISED",
            line_amount_types="Inclusive",
            line_items=self.bill_lines(),
            currency=self.region.currency,
            currency_rate=Decimal(1),
            created=created,
            updated=created,
        )
        reprice_invoice(inv, self.tax_rates)
        inv.history.append(created_record(inv, supplier, rng.choice(STAFF), created))
        r = rng.random()
        last = created
        if r < 0.08:
            inv.status = "DRAFT"
        elif r < 0.13:
            inv.status = "VOIDED"
        elif r < 0.15:
            inv.status = "DELETED"
        elif r < 0.75 and age > 10:
            last = self.pay(
                inv, inv.amount_due, min(day + timedelta(days=rng.randint(0, 25)), self.yesterday)
            )
        inv.updated = last
        return inv


def build_organisation(
    *,
    seed: int,
    invoices: int,
    now: datetime,
    clock: SandboxClock,
    tenant_id: str | None = None,
    region: str = "NZ",
) -> Organisation:
    """Build the seeded organisation as it stands at ``now``."""
    if invoices < 0:
        raise ValueError("invoices must be >= 0")
    with no_cyclic_gc():
        return _build(seed=seed, invoices=invoices, now=now, clock=clock, tenant_id=tenant_id,
                      region=region)  # fmt: skip


def _build(
    *, seed: int, invoices: int, now: datetime, clock: SandboxClock, tenant_id: str | None,
    region: str,
) -> Organisation:  # fmt: skip
    rng = _rng(f"xero-sandbox:{seed}")
    edition = region_named(region)
    name = "Kowhai Sandbox Trading Ltd" if edition is NZ else edition.org_name
    org = Organisation(tenant_id or tenant_for_seed(seed), name, clock)
    org.region = edition
    org.created_at = now - timedelta(days=900)
    builder = _Builder(org, rng, now)
    org.connection_id = builder.uid()
    org.connected_at = now - timedelta(days=30)
    n_customers = max(6, min(400, invoices // 6 + 4))
    n_suppliers = max(3, min(60, invoices // 40 + 3))
    builder.contacts(n_customers, n_suppliers)
    decorate(builder.customers, seed, org.region)

    sales = [builder.sales_invoice(i) for i in range(invoices)]
    # Numbers follow issue order, as they would in a real organisation.
    sales.sort(key=lambda inv: (inv.date, inv.created, inv.invoice_id))
    for inv in sales:
        inv.number = org.take_invoice_number()
        org.add_invoice(inv)
    bills = [builder.bill() for _ in range(max(2, invoices // 5))]
    for inv in bills:
        org.add_invoice(inv)
    notes = sorted(org.credit_notes.values(), key=lambda n: (n.date, n.credit_note_id))
    for note in notes:
        note.number = f"CN-{org.next_credit_note_number:04d}"
        org.next_credit_note_number += 1
    seed_prepaid(org, seed, now)
    return org
