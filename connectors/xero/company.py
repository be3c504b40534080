"""The connected business as Xero describes it (``GET /Organisation``).

Also the organisation's lock dates, which decide whether Xero will still accept an edit to
an invoice dated on or before them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from connectors.base import CompanyInfo, PermanentError

from . import contacts, mapping

if TYPE_CHECKING:
    from .client import XeroConnector


@dataclass(frozen=True)
class Organisation:
    info: CompanyInfo
    period_lock: date | None
    year_end_lock: date | None
    raw: Mapping[str, Any]

    @property
    def lock_date(self) -> date | None:
        """The later of the two lock dates: nothing dated on or before it can be changed
        (the period lock binds the advisers' users too only when it is the later one, so
        the later date is the one that certainly binds an app)."""
        dates = [d for d in (self.period_lock, self.year_end_lock) if d is not None]
        return max(dates) if dates else None


def read_organisation(connector: XeroConnector) -> Organisation:
    api, tenant = connector.api, connector.tenant_id
    body = connector._json(lambda: api.get_organisations(tenant, _preload_content=False))
    rows = [r for r in body.get("Organisations") or [] if isinstance(r, dict)]
    if not rows:
        raise PermanentError("Xero returned no organisation for this tenant")
    return parse(rows[0])


def _lock(raw: Mapping[str, Any], field: str) -> date | None:
    try:
        return mapping.parse_date(raw.get(field), field)
    except mapping.MappingError:
        return None


def parse(raw: Mapping[str, Any]) -> Organisation:
    name = " ".join(str(raw.get("Name") or "").split())
    legal = " ".join(str(raw.get("LegalName") or "").split()) or None
    if not name:
        name = legal or "(unnamed Xero organisation)"
    currency = str(raw.get("BaseCurrency") or "").strip().upper() or None
    country = contacts.country_code(raw.get("CountryCode"))
    # The organisation's address and phone are read with the contact rules: same shapes.
    address = contacts.billing_address(raw)
    info = CompanyInfo(
        name=name,
        legal_name=legal,
        email=None,  # Xero does not expose the organisation's email address
        phone=contacts.phone(raw),
        address=contacts.address_lines(address) if address else (),
        country=country,
        base_currency=currency,
    )
    return Organisation(
        info=info,
        period_lock=_lock(raw, "PeriodLockDate"),
        year_end_lock=_lock(raw, "EndOfYearLockDate"),
        raw=raw,
    )
