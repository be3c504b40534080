"""The connected business as QuickBooks describes it (``CompanyInfo``).

Its name signs syncd's emails, so a blank ``CompanyName`` falls back to the legal name; the
address is the customer-facing one when the company set one, else the company address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import CompanyInfo, PermanentError
from connectors.kit import countries

from .mapping import address_lines, sub


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def company_info(raw: Mapping[str, Any], home_currency: str) -> CompanyInfo:
    name = _text(raw.get("CompanyName")) or _text(raw.get("LegalName"))
    if name is None:
        raise PermanentError("QuickBooks CompanyInfo has neither CompanyName nor LegalName")
    address = raw.get("CustomerCommunicationAddr") or raw.get("CompanyAddr") or {}
    if not isinstance(address, Mapping):
        address = {}
    email, phone = sub(raw, "Email"), sub(raw, "PrimaryPhone")
    country = countries.to_alpha2(raw.get("Country")) or countries.to_alpha2(address.get("Country"))
    return CompanyInfo(
        name=name,
        legal_name=_text(raw.get("LegalName")),
        email=_text(email.get("Address")),
        phone=_text(phone.get("FreeFormNumber")),
        address=address_lines(address),
        country=country,
        base_currency=home_currency,
    )
