"""What the seeded business sells and buys, and the awkward cases every seed starts with."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    code: str | None
    description: str
    price: Decimal
    account: str
    max_qty: int


CATALOGUE = (
    Product("CONS-HR", "Consulting services (per hour)", Decimal("185.00"), "200", 24),
    Product("WEB-MNT", "Website maintenance - monthly retainer", Decimal("450.00"), "200", 1),
    Product("SUP-M", "Support subscription - monthly", Decimal("129.00"), "200", 3),
    Product("INST", "Onsite installation", Decimal("780.00"), "200", 2),
    Product("TRN-HALF", "Training - half day workshop", Decimal("650.00"), "200", 3),
    Product("HW-SW24", "24-port network switch", Decimal("1249.95"), "200", 4),
    Product("HOST-Y", "Managed hosting - annual", Decimal("1188.00"), "200", 1),
    Product(None, "Travel and accommodation (at cost)", Decimal("0"), "260", 1),
)
BILL_LINES = (
    ("Broadband and mobile", "489"),
    ("Electricity", "445"),
    ("Office supplies", "461"),
    ("Computer equipment", "720"),
    ("Rent - office", "469"),
    ("Courier charges", "425"),
    ("Subscriptions", "485"),
)

# Invoices forced at the start of the run so small seeds still cover the
# cases a dunning sync must handle.
FORCED = (
    "overdue",
    "partial",
    "paid",
    "draft",
    "submitted",
    "voided",
    "deleted",
    "no_email",
    "person_email",
    "foreign",
    "credited",
    "bounced",
)
