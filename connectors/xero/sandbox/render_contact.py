"""A contact's groups, addresses and phones in the shapes the recorded Demo Company shows."""

from __future__ import annotations

import uuid
from typing import Any

from .models import Contact

_NS = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


def contact_group_json(name: str) -> dict[str, Any]:
    return {
        "ContactGroupID": str(uuid.uuid5(_NS, f"group:{name}")),
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
