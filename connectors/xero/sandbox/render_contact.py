"""Contacts in the shapes the recorded Demo Company shows: whole, brief (as embedded in an
invoice), and their groups, addresses and phones."""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal
from typing import Any

from .dates import ms_datetime
from .models import Contact
from .money import json_number

_NS = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


@functools.lru_cache(maxsize=1024)
def _group_id(name: str) -> str:
    """A group's id, hashed once per name: every contact of a page lists its groups."""
    return str(uuid.uuid5(_NS, f"group:{name}"))


def contact_group_json(name: str) -> dict[str, Any]:
    return {
        "ContactGroupID": _group_id(name),
        "Name": name,
        "Status": "ACTIVE",
        "Contacts": [],
        "HasValidationErrors": False,
    }


def contact_addresses(contact: Contact) -> list[dict[str, Any]]:
    """POBOX is the billing address Xero prints on invoices; STREET is left empty, as in
    most recorded contacts. Lines may carry a trailing newline, as typed into Xero."""
    lines = list(contact.address) + [""] * (4 - len(contact.address))
    pobox: dict[str, Any] = {"AddressType": "POBOX"}
    if contact.address:
        pobox.update({f"AddressLine{i + 1}": line for i, line in enumerate(lines[:4])})
    pobox.update(
        {
            "City": contact.city,
            "Region": contact.region,
            "PostalCode": contact.postal_code,
            "Country": contact.country,
        }
    )
    street = {"AddressType": "STREET", "City": "", "Region": "", "PostalCode": "", "Country": ""}
    return [pobox, street]


def contact_phones(contact: Contact) -> list[dict[str, Any]]:
    default: dict[str, str] = {"PhoneType": "DEFAULT"}
    parts = contact.phone.split(" ", 1)
    if len(parts) == 2:
        default.update(
            {
                "PhoneNumber": parts[1],
                "PhoneAreaCode": parts[0],
                "PhoneCountryCode": contact.phone_country,
            }
        )
    return [default, {"PhoneType": "DDI"}, {"PhoneType": "FAX"}, {"PhoneType": "MOBILE"}]


def contact_brief(contact: Contact) -> dict[str, Any]:
    return {
        "ContactID": contact.contact_id,
        "Name": contact.name,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


def contact_json(
    contact: Contact, balances: tuple[Decimal, Decimal] | None = None, *, summary: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ContactID": contact.contact_id,
        "AccountNumber": contact.account_number,
        "ContactStatus": contact.status,
        "Name": contact.name,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "EmailAddress": contact.email,
        "BankAccountDetails": "",
    }
    if contact.tax_number:
        out["TaxNumber"] = contact.tax_number
    if contact.company_number:
        out["CompanyNumber"] = contact.company_number
    if not summary:
        out["Addresses"] = contact_addresses(contact)
        out["Phones"] = contact_phones(contact)
    out["UpdatedDateUTC"] = ms_datetime(contact.updated)
    out["ContactGroups"] = [contact_group_json(name) for name in contact.groups]
    out["IsSupplier"] = contact.is_supplier
    out["IsCustomer"] = contact.is_customer
    if contact.default_currency:
        out["DefaultCurrency"] = contact.default_currency
    if balances is not None and not summary:
        outstanding, overdue = balances
        out["Balances"] = {
            "AccountsReceivable": {
                "Outstanding": json_number(outstanding),
                "Overdue": json_number(overdue),
            },
            "AccountsPayable": {"Outstanding": 0, "Overdue": 0},
        }
    out["ContactPersons"] = [
        {
            "FirstName": p.first_name,
            "LastName": p.last_name,
            "EmailAddress": p.email,
            "IncludeInEmails": p.include_in_emails,
        }
        for p in contact.persons
    ]
    out["HasAttachments"] = False
    out["HasValidationErrors"] = False
    return out
