"""Fixed reference lists of the sandbox company: items, terms, currencies, accounts.

These are the lists QBO keeps beside the transactions; the sandbox does not serve them as
queryable entities, but every Ref it emits points into them so that names and ids agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    description: str
    unit_price: Decimal
    account_id: str
    account_name: str


SERVICES_ACCOUNT = ("1", "Services")
PRODUCT_ACCOUNT = ("79", "Sales of Product Income")
FEE_ACCOUNT = ("82", "Late Fee Income")

ITEMS: dict[str, Item] = {
    item.id: item
    for item in (
        Item("1", "Services", "Professional services", Decimal("150"), *SERVICES_ACCOUNT),
        Item("2", "Consulting", "Consulting (hourly)", Decimal("175"), *SERVICES_ACCOUNT),
        Item("3", "Design", "Custom design (hourly)", Decimal("75"), *SERVICES_ACCOUNT),
        Item("4", "Installation", "On-site installation", Decimal("95"), *SERVICES_ACCOUNT),
        Item("5", "Hosting", "Monthly hosting", Decimal("49"), *SERVICES_ACCOUNT),
        Item("6", "Maintenance", "Maintenance plan", Decimal("120"), *SERVICES_ACCOUNT),
        Item("7", "Hardware Kit", "Hardware kit", Decimal("450"), *PRODUCT_ACCOUNT),
        Item("8", "Training", "Training session", Decimal("300"), *SERVICES_ACCOUNT),
        Item("9", "Supplies", "Supplies and materials", Decimal("12.75"), *PRODUCT_ACCOUNT),
        Item("10", "Late Fee", "Late payment fee", Decimal("25"), *FEE_ACCOUNT),
    )
}

DEFAULT_ITEM_ID = "1"


@dataclass(frozen=True)
class Term:
    id: str
    name: str
    days: int


TERMS: dict[str, Term] = {
    term.id: term
    for term in (
        Term("1", "Due on receipt", 0),
        Term("2", "Net 15", 15),
        Term("3", "Net 30", 30),
        Term("4", "Net 60", 60),
    )
}

# Invoices created without terms get the company default (30 days) but no SalesTermRef,
# exactly as in the recorded create-invoice sample.
COMPANY_DEFAULT_DUE_DAYS = 30

CURRENCIES: dict[str, str] = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
}

# Fixed home-currency rates (units of USD per unit of foreign currency).
EXCHANGE_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "CAD": Decimal("0.73"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
}

DEPOSIT_ACCOUNT_ID = "4"
