"""Contact details a real organisation's contacts carry: groups, addresses, phones, tax numbers.

Drawn from their own random stream (seeded from the sandbox seed), so adding them left every
other seeded record exactly as it was. The spread follows the recorded Demo Company: about
one contact in seven in a group, addresses typed by hand (a country name, sometimes left
empty, a line ending in a newline), phone numbers split into area code and number.
"""

from __future__ import annotations

import random

from .models import Contact
from .regions import Region

#: Groups a small business typically keeps; policies select customers by these names.
GROUPS = ("Key accounts", "Trade customers", "Retail customers", "Government", "Overseas")

_STREETS = {
    "NZ": ("Queen Street", "Great South Road", "Cuba Street", "Colombo Street", "Victoria Street"),
    "GB": ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue"),
    "AU": ("George Street", "Pitt Street", "Chapel Street", "Bourke Street", "King Street"),
    "US": ("Main Street", "Oak Avenue", "Mission Street", "Broadway", "Elm Street"),
}
_CITIES = {
    "NZ": (("Auckland", "", "1010"), ("Wellington", "", "6011"), ("Christchurch", "", "8011"),
           ("Hamilton", "Waikato", "3204"), ("Dunedin", "Otago", "9016")),
    "GB": (("Leeds", "West Yorkshire", "LS1 4DY"), ("Manchester", "", "M1 1AE"),
           ("Bristol", "", "BS1 5TR"), ("York", "North Yorkshire", "YO1 7HH")),
    "AU": (("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000"), ("Brisbane", "QLD", "4000"),
           ("Perth", "WA", "6000")),
    "US": (("Oakland", "CA", "94612"), ("Portland", "OR", "97204"), ("Austin", "TX", "78701"),
           ("Denver", "CO", "80202")),
}  # fmt: skip
#: How the country is typed on a customer's address in the wild: names, codes, empty.
_COUNTRY_SPELLINGS = {
    "NZ": ("New Zealand", "New Zealand", "NZ", ""),
    "GB": ("United Kingdom", "UK", "England", "United Kingdom"),
    "AU": ("Australia", "Australia", "AU", ""),
    "US": ("United States", "USA", "United States of America", ""),
}
_FOREIGN = {"AUD": "Australia", "USD": "United States", "GBP": "United Kingdom", "EUR": "Germany"}


def decorate(contacts: list[Contact], seed: int, region: Region) -> None:
    """Give seeded customers groups, a billing address, a phone and (often) a tax number."""
    rng = random.Random(f"xero-sandbox-contacts:{seed}")  # noqa: S311 - test data
    code = region.code
    for k, contact in enumerate(contacts):
        street = rng.choice(_STREETS[code])
        city, area, postcode = rng.choice(_CITIES[code])
        contact.address = (f"{rng.randint(1, 240)} {street}",)
        if rng.random() < 0.15:
            contact.address = (f"PO Box {rng.randint(100, 9999)}\n",)
        contact.city, contact.region, contact.postal_code = city, area, postcode
        contact.country = rng.choice(_COUNTRY_SPELLINGS[code])
        if contact.default_currency and contact.default_currency != region.currency:
            contact.country = _FOREIGN.get(contact.default_currency, contact.country)
            if contact.country == "Germany":
                contact.address, contact.city, contact.postal_code = (
                    ("Friedrichstraße 68",), "Berlin", "10117")  # fmt: skip
        contact.phone_country = region.phone[0]
        if not contact.phone:
            contact.phone = f"{region.phone[1]} {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
        if rng.random() < 0.55:
            contact.tax_number = (
                f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
            )
        groups: list[str] = []
        if k == 0 or rng.random() < 0.12:
            groups.append("Key accounts")
        if rng.random() < 0.2:
            groups.append(rng.choice(GROUPS[1:4]))
        if contact.country in _FOREIGN.values() and contact.country != region.address.country:
            groups.append("Overseas")
        contact.groups = groups
