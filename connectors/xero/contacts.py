"""The parts of a Xero contact that say who the customer is: groups, address, phone, kind.

Xero stores addresses as typed by a person: ``Country`` is free text ("New Zealand", "UK",
"USA", "England", or nothing) and lines may end in a newline. The country is turned into an
ISO 3166-1 alpha-2 code by the kit's ``countries`` (CLDR names plus the spellings people
actually type); anything unrecognised stays ``None`` rather than guessed.

Business or consumer: Xero has no such flag. A contact is taken to be a business when Xero
holds a registration for it (``CompanyNumber``) or a sales-tax registration (``TaxNumber``:
GST, VAT or ABN numbers are only issued to businesses). Otherwise the answer is ``None``:
Xero does not say, and the policy's default decides. Never ``False``: nothing in a Xero
contact proves someone is a consumer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.kit import countries

#: The billing address first: POBOX is what Xero prints on invoices, STREET the fallback.
ADDRESS_ORDER = ("POBOX", "STREET", "DELIVERY")
PHONE_ORDER = ("DEFAULT", "OFFICE", "MOBILE", "DDI")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def country_code(value: Any) -> str | None:
    """ISO alpha-2 for a country as typed into Xero, or None if it is not recognisable."""
    return countries.to_alpha2(_text(value))


def groups(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the contact's active groups, in Xero's order, without duplicates."""
    out: list[str] = []
    for group in raw.get("ContactGroups") or []:
        if not isinstance(group, Mapping):
            continue
        if str(group.get("Status") or "ACTIVE").upper() != "ACTIVE":
            continue
        name = _text(group.get("Name"))
        if name and name not in out:
            out.append(name)
    return tuple(out)


def billing_address(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first address with anything in it, POBOX before STREET."""
    found: dict[str, Mapping[str, Any]] = {}
    for address in raw.get("Addresses") or []:
        if isinstance(address, Mapping):
            kind = str(address.get("AddressType") or "").upper()
            found.setdefault(kind, address)
    for kind in ADDRESS_ORDER:
        address = found.get(kind)
        if address is not None and address_lines(address):
            return address
    return None


def address_lines(address: Mapping[str, Any]) -> tuple[str, ...]:
    """Street lines, then "City Region PostalCode", then the country as typed."""
    lines = [_text(address.get(f"AddressLine{i}")) for i in range(1, 5)]
    locality = " ".join(
        p for p in (_text(address.get(k)) for k in ("City", "Region", "PostalCode")) if p
    )
    out = [line for line in [*lines, locality or None, _text(address.get("Country"))] if line]
    return tuple(out)


def phone(raw: Mapping[str, Any]) -> str | None:
    """The first phone with a number: "+CC AREA NUMBER" as far as Xero has the parts."""
    by_type: dict[str, Mapping[str, Any]] = {}
    for entry in raw.get("Phones") or []:
        if isinstance(entry, Mapping) and _text(entry.get("PhoneNumber")):
            by_type.setdefault(str(entry.get("PhoneType") or "").upper(), entry)
    for kind in (*PHONE_ORDER, *by_type):
        entry = by_type.get(kind)
        if entry is None:
            continue
        country = _text(entry.get("PhoneCountryCode"))
        parts = [
            f"+{country.lstrip('+')}" if country else None,
            _text(entry.get("PhoneAreaCode")),
            _text(entry.get("PhoneNumber")),
        ]
        return " ".join(p for p in parts if p)
    return None


def is_business(raw: Mapping[str, Any]) -> bool | None:
    """True when Xero holds a company or tax registration for the contact, else None."""
    if _text(raw.get("CompanyNumber")) or _text(raw.get("TaxNumber")):
        return True
    return None


def details(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~connectors.base.CustomerRecord` fields this module fills."""
    address = billing_address(raw)
    return {
        "groups": groups(raw),
        "country": country_code(address.get("Country")) if address else None,
        "is_business": is_business(raw),
        "phone": phone(raw),
        "address": address_lines(address) if address else (),
    }
