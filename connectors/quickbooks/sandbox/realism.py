"""What makes a seeded company look like a real one: customer types and typed countries,
domestic addresses outside the US, tax codes on every line, description-only headers, bundles
and discounts. Everything here draws from the seed's auxiliary random stream, so the history
itself (invoices, payments, their dates) is the same for a given seed with or without it.
"""

from __future__ import annotations

import random
from typing import Any

from .catalog import ITEMS
from .company import Company
from .lists import CUSTOMER_TYPES
from .seedshared import PlannedLine

JSON = dict[str, Any]

_FOREIGN_ADDRESSES: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "CAD": (
        ("Toronto", "ON", "M5V 2T6", ("Canada", "CA")),
        ("Vancouver", "BC", "V6B 1A1", ("Canada",)),
    ),
    "GBP": (
        ("London", "", "EC1A 1BB", ("United Kingdom", "UK", "GB")),
        ("Leeds", "", "LS1 4AP", ("England", "United Kingdom")),
    ),
    "EUR": (
        ("Berlin", "", "10115", ("Germany", "Deutschland", "DE")),
        ("Dublin", "", "D02 X285", ("Ireland",)),
        ("Lyon", "", "69002", ("France",)),
    ),
}
#: Tangible goods are taxable under US sales tax; services here are not.
TAXABLE_GOODS = ("7", "9")
#: What exports carry in non-US companies.
ZERO_RATED = {"GB": "4", "CA": "7"}
_HEADERS = (
    "Phase 2 - as agreed in the statement of work",
    "Work for the spring campaign:",
    "Per our quote Q-2291",
    "Monthly retainer",
)
_DOMESTIC: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "GB": (
        ("Manchester", "", "M2 5DB", ("UK", "United Kingdom")),
        ("Bristol", "", "BS1 4DJ", ("England",)),
        ("Glasgow", "", "G1 1XQ", ("Scotland", "UK")),
    ),
    "CA": (
        ("Toronto", "ON", "M5V 2T6", ("Canada",)),
        ("Ottawa", "ON", "K1P 1J1", ("CA", "Canada")),
    ),
}


def profile_customers(company: Company, rng: random.Random, bodies: list[JSON]) -> None:
    """Customer types and address countries, from a separate random stream so that the
    rest of the history stays what it was for a given seed."""
    for body in bodies:
        business = "CompanyName" in body
        if rng.random() < 0.85:
            type_id = rng.choice(("1", "1", "1", "3", "4", "5")) if business else "2"
            # QBO's Customer carries the type's id only; its name lives in CustomerType.
            body["CustomerTypeRef"] = {"value": dict(CUSTOMER_TYPES)[type_id] and type_id}
        currency = body["CurrencyRef"]["value"]
        address = body["BillAddr"]
        if currency == company.home_currency and company.country != "US":
            city, region, postcode, countries = rng.choice(_DOMESTIC[company.country])
            address.update({"City": city, "PostalCode": postcode})
            address.pop("CountrySubDivisionCode", None)
            if region:
                address["CountrySubDivisionCode"] = region
            if rng.random() < 0.5:
                address["Country"] = rng.choice(countries)
        elif currency in _FOREIGN_ADDRESSES:
            city, region, postcode, countries = rng.choice(_FOREIGN_ADDRESSES[currency])
            address.update({"City": city, "PostalCode": postcode})
            address.pop("CountrySubDivisionCode", None)
            if region:
                address["CountrySubDivisionCode"] = region
            address["Country"] = rng.choice(countries)
        else:
            # Bookkeepers type the country freely, or leave it blank for domestic customers.
            address["Country"] = rng.choice(("USA", "US", "United States", "", ""))
            if not address["Country"]:
                del address["Country"]
        if rng.random() < 0.2:
            address["Line2"] = f"Suite {rng.randrange(100, 900)}"


#: An invoice's extra lines, drawn when it is planned: a header's text, whether a bundle is
#: sold, a discount's percentage (``None``/``False`` for none).
Decoration = tuple[str | None, bool, int | None]
#: No header, bundle or discount: the invoice's lines are its item lines alone.
PLAIN: Decoration = (None, False, None)


def draw_decoration(rng: random.Random) -> Decoration:
    """The draws :func:`decorate` applies, made when the invoice is planned: its lines are
    built only when it is written, so that they are fresh in memory and freed at once."""
    header = rng.choice(_HEADERS) if rng.random() < 0.10 else None
    group = rng.random() < 0.05
    percent = rng.choice((5, 10)) if rng.random() < 0.07 else None
    if header is None and not group and percent is None:
        return PLAIN  # most invoices: one shared tuple
    return header, group, percent


def tax_codes(company: Company, item_ids: list[str], customer: JSON) -> list[str]:
    """The tax code of each item line of an invoice to ``customer``: taxable goods in the US,
    exports zero-rated and the rest at the default code elsewhere."""
    if company.country == "US":
        return ["TAX" if item_id in TAXABLE_GOODS else "NON" for item_id in item_ids]
    zero = ZERO_RATED[company.country]
    foreign = customer["CurrencyRef"]["value"] != company.home_currency
    code = zero if foreign else company.default_tax_code()
    return [code for _ in item_ids]


def decorate(company: Company, lines: list[JSON], customer: JSON, drawn: Decoration) -> None:
    """Tax codes on every line and the line types real invoices carry (description-only
    headers, bundles, discounts), as drawn from the separate random stream."""
    details = [line["SalesItemLineDetail"] for line in lines]
    codes = tax_codes(company, [detail["ItemRef"]["value"] for detail in details], customer)
    for detail, code in zip(details, codes, strict=True):
        detail["TaxCodeRef"] = {"value": code}
    header, group, percent = drawn
    if header is not None:
        lines.insert(0, {"DetailType": "DescriptionOnly", "Description": header})
    if group:
        lines.append(
            {
                "DetailType": "GroupLineDetail",
                "GroupLineDetail": {"GroupItemRef": {"value": "12"}, "Quantity": 1},
            }
        )
    if percent is not None:
        lines.append(
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": percent},
            }
        )


def request_lines(
    company: Company, planned: list[PlannedLine], customer: JSON, drawn: Decoration
) -> list[JSON]:
    """An invoice request's Line: the planned item lines, then :func:`decorate`'s."""
    lines: list[JSON] = [
        {
            "Description": ITEMS[item_id].description,
            "Amount": amount,
            "DetailType": "SalesItemLineDetail",
            # TaxCodeRef is added last by ``decorate``, as the request had it.
            "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": unit},
        }
        for item_id, qty, unit, amount in planned
    ]
    decorate(company, lines, customer, drawn)
    return lines
