"""Bulk imports: hundreds of invoices and payments that share one ``UpdatedDateUTC``.

A CSV import, a migration from another system or a batch of recurring invoices lands in
Xero in one transaction; every record it creates carries the same ``UpdatedDateUTC``. A
client that pages on that field by page number and relies on a stable order among equal
stamps loses or repeats records here. Used by the ``bulk_import`` seed mode and by
``POST /_sandbox/bulk-import``.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .models import Contact, HistoryRecord, Invoice, LineItem, Payment
from .money import cents
from .organisation import API_USER, Organisation
from .totals import reprice_invoice

_SERVICES = (
    ("Monthly support retainer", Decimal("450.00")),
    ("Managed backup service", Decimal("89.00")),
    ("Website hosting - monthly", Decimal("49.00")),
    ("Bookkeeping - monthly fixed fee", Decimal("320.00")),
    ("Equipment lease", Decimal("275.00")),
)


def bulk_import(
    org: Organisation, count: int, *, seed: int = 0, at: datetime | None = None
) -> dict[str, Any]:
    """Create ``count`` approved invoices (half paid in full) stamped with one instant."""
    if count < 1 or count > 5000:
        raise ValueError("count must be between 1 and 5000")
    rng = random.Random(f"xero-sandbox-bulk:{seed}:{count}")  # noqa: S311 - test data
    customers = [c for c in org.contacts.values() if c.is_customer and c.status == "ACTIVE"]
    if not customers:
        raise ValueError("the organisation has no active customers to import invoices for")
    with org.lock:
        stamp = at or org.touch()
        invoices: list[str] = []
        payments: list[str] = []
        for _ in range(count):
            inv = _imported_invoice(org, rng, customers, stamp)
            org.add_invoice(inv)
            invoices.append(inv.invoice_id)
            if rng.random() < 0.5:
                payments.append(_paid_in_full(org, rng, inv, stamp))
        return {"at": stamp.isoformat(), "invoices": invoices, "payments": payments}


def _imported_invoice(
    org: Organisation, rng: random.Random, customers: list[Contact], stamp: datetime
) -> Invoice:
    """One approved invoice, drawing from ``rng`` in a fixed order (same seed, same import)."""
    region = org.region
    contact = rng.choice(customers)
    currency = contact.default_currency or region.currency
    description, price = rng.choice(_SERVICES)
    day = stamp.date() - timedelta(days=rng.randint(0, 90))
    inv = Invoice(
        invoice_id=_uid(rng),
        type="ACCREC",
        number=org.take_invoice_number(),
        reference="Imported",
        contact_id=contact.contact_id,
        date=day,
        due_date=day + timedelta(days=20),
        status="AUTHORISED",
        line_amount_types="Exclusive",
        line_items=[
            LineItem(
                line_item_id=_uid(rng),
                description=description,
                quantity=Decimal(rng.randint(1, 3)),
                unit_amount=cents(price * region.currency_rate(currency)),
                account_code="200",
                tax_type=region.sales_tax if currency == region.currency else region.export_tax,
            )
        ],
        currency=currency,
        currency_rate=region.currency_rate(currency),
        created=stamp,
        updated=stamp,
    )
    reprice_invoice(inv, region.rates())
    inv.history.append(HistoryRecord("Created", "Imported from CSV.", API_USER, stamp))
    return inv


def _paid_in_full(org: Organisation, rng: random.Random, inv: Invoice, stamp: datetime) -> str:
    """A payment of everything ``inv`` owes, within 20 days of it; its id."""
    payment = Payment(
        payment_id=_uid(rng),
        invoice_id=inv.invoice_id,
        date=min(inv.date + timedelta(days=rng.randint(0, 20)), stamp.date()),
        amount=inv.amount_due,
        currency_rate=inv.currency_rate,
        reference="Imported",
        status="AUTHORISED",
        updated=stamp,
    )
    org.payments[payment.payment_id] = payment
    inv.payment_ids.append(payment.payment_id)
    org.settle(inv, stamp)
    return payment.payment_id


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
