"""The business syncd speaks for, as the provider describes it, cached with the org.

Reminder emails are signed with the provider's company name rather than a word typed into the
config ("Accounts"). The name is read when syncing, not when sending: a provider outage at
send time must not change who an email says it is from, and a failure to read it never fails
a sync (the last known name stays).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from connectors.base import CompanyInfo, Connector, ConnectorError

from .logs import get_logger
from .store import Store
from .store.models import Org

log = get_logger(__name__)

#: One extra API call per org and half-day is plenty for a name that rarely changes.
REFRESH_AFTER = timedelta(hours=12)


def company_to_dict(info: CompanyInfo) -> dict[str, Any]:
    data = asdict(info)
    data["address"] = list(info.address)
    return data


def company_from_dict(data: dict[str, Any] | None) -> CompanyInfo | None:
    if not data or not data.get("name"):
        return None

    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None else str(value)

    return CompanyInfo(
        name=str(data["name"]),
        legal_name=text("legal_name"),
        email=text("email"),
        phone=text("phone"),
        address=tuple(str(line) for line in data.get("address") or ()),
        country=text("country"),
        base_currency=text("base_currency"),
    )


def stored_company(session: Session, org_id: int) -> CompanyInfo | None:
    org = session.get(Org, org_id)
    return None if org is None else company_from_dict(org.company_info)


def save_company(session: Session, org_id: int, info: CompanyInfo, now: datetime) -> None:
    org = session.get(Org, org_id)
    if org is None:
        raise LookupError(f"no org with id {org_id}")
    org.company_name = info.name.strip() or None
    org.company_info = company_to_dict(info)
    org.company_info_at = now


def refresh_company(
    store: Store, org_id: int, connector: Connector, now: datetime, *, force: bool = False
) -> CompanyInfo | None:
    """Read ``company_info()`` when the cached copy is missing or old; keep the old copy on
    any failure (logged), since a sync must not fail over the business's letterhead."""
    with store.sessions() as session:
        org = session.get(Org, org_id)
        cached = None if org is None else company_from_dict(org.company_info)
        fetched_at = None if org is None else org.company_info_at
    if not force and cached is not None and fetched_at and now - fetched_at < REFRESH_AFTER:
        return cached
    try:
        info = connector.company_info()
    except (ConnectorError, NotImplementedError, AttributeError) as exc:
        log.warning("could not read the company details", org_id=org_id, error=str(exc))
        return cached
    with store.sessions.begin() as session:
        save_company(session, org_id, info, now)
    return info
