"""The seeded organisation's customers and suppliers (their details: :mod:`.seed_contacts`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from .fastrand import FastRandom
from .models import Contact, ContactPerson
from .organisation import Organisation
from .regions import Region
from .seed_common import stamp
from .seed_names import FIRST_NAMES, LAST_NAMES, TRADES


class PartyMaker:
    """Mixed into the seed's builder: draws customers, then suppliers, from its stream."""

    org: Organisation
    region: Region
    rng: FastRandom
    places: tuple[str, ...]
    suffixes: tuple[str, ...]
    supplier_names: tuple[str, ...]
    domain: str
    today: date
    customers: list[Contact]
    suppliers: list[Contact]
    uid: Callable[[], str]

    def contacts(self, n_customers: int, n_suppliers: int) -> None:
        used: set[str] = set()
        for k in range(n_customers):
            self._customer(k, used)
        for k in range(n_suppliers):
            self._supplier(k)

    def _customer(self, k: int, used: set[str]) -> None:
        rng = self.rng
        while True:
            name = f"{rng.choice(self.places)} {rng.choice(TRADES)} {rng.choice(self.suffixes)}"
            if name not in used:
                break
            if len(used) > len(self.places) * len(TRADES):
                name = f"{name} {k}"
                break
        used.add(name)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"accounts@{slug}.{self.domain}" if rng.random() < 0.8 else ""
        persons: list[ContactPerson] = []
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 2)):
                pf, pl = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                persons.append(
                    ContactPerson(
                        pf,
                        pl,
                        f"{pf.lower()}.{pl.lower()}@{slug}.{self.domain}",
                        rng.random() < 0.6,
                    )
                )
        # Forced cases: 0 has an email, 1 has no way to be emailed, 2 only
        # through a contact person, 3 is archived.
        if k == 0:
            email = email or f"accounts@{slug}.{self.domain}"
        elif k == 1:
            email, persons = (
                "",
                [ContactPerson(first, last, f"{first.lower()}@{slug}.{self.domain}", False)],
            )
        elif k == 2:
            email = ""
            persons = [
                ContactPerson(
                    first, last, f"{first.lower()}.{last.lower()}@{slug}.{self.domain}", True
                )
            ]
        status = "ARCHIVED" if (k == 3 or (k > 5 and rng.random() < 0.07)) else "ACTIVE"
        currency = None
        if k == 4 or (k > 5 and rng.random() < 0.15):
            currency = rng.choice(("AUD", "USD", "GBP", "EUR")) if k != 4 else "USD"
            if currency == self.region.currency:
                currency = "NZD" if k != 4 else "EUR"
        contact = Contact(
            contact_id=self.uid(),
            name=name,
            first_name=first,
            last_name=last,
            email=email,
            status=status,
            is_customer=True,
            is_supplier=rng.random() < 0.05,
            updated=stamp(rng, self.today - timedelta(days=rng.randint(30, 700))),
            persons=persons,
            default_currency=currency,
            account_number=f"C{k + 1:04d}",
            phone=f"{self.region.phone[1]} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
        )
        self.org.contacts[contact.contact_id] = contact
        self.customers.append(contact)

    def _supplier(self, k: int) -> None:
        rng = self.rng
        base = self.supplier_names[k % len(self.supplier_names)]
        n = len(self.supplier_names)
        name = base if k < n else f"{base} ({k // n + 1})"
        slug = "".join(ch for ch in base.lower() if ch.isalnum())[:20]
        contact = Contact(
            contact_id=self.uid(),
            name=name,
            first_name="",
            last_name="",
            email=f"billing@{slug}.{self.domain}" if rng.random() < 0.7 else "",
            status="ACTIVE",
            is_customer=False,
            is_supplier=True,
            updated=stamp(rng, self.today - timedelta(days=rng.randint(30, 700))),
            account_number=f"S{k + 1:04d}",
        )
        self.org.contacts[contact.contact_id] = contact
        self.suppliers.append(contact)
