"""Which orgs listen where, with which secret, for which provider account.

Paths: ``/webhooks/{provider}`` for every org of that provider (Intuit and Xero allow one
endpoint per app, and route by realm / tenant id inside the payload), and
``/webhooks/{provider}/{org}`` for one org. An org with no secret has no endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config.models import OrgSettings, Settings
from ..logs import register_secret

PROVIDERS = ("quickbooks", "xero")
_SECRET_NAME = {"quickbooks": "verifier_token", "xero": "webhook_key"}
_ACCOUNT_KEY = {"quickbooks": "realm_id", "xero": "tenant_id"}


@dataclass(frozen=True)
class OrgEndpoint:
    org: str
    provider: str
    #: QuickBooks realm id / Xero tenant id (lower-cased), as the payload names it.
    account: str
    secret: str = field(repr=False)


def _secret(org: OrgSettings) -> str | None:
    name = _SECRET_NAME[org.connector]
    configured = getattr(org.webhooks, name)
    if configured is not None:
        value: str = configured.get_secret_value()
        return value or None
    raw = org.credentials.get(name)
    return str(raw) if raw else None


def org_endpoints(settings: Settings) -> dict[str, OrgEndpoint]:
    """Every org that can receive webhooks; each secret is registered for log redaction."""
    out: dict[str, OrgEndpoint] = {}
    for org in settings.orgs:
        if org.connector not in PROVIDERS:
            continue
        secret = _secret(org)
        if secret is None:
            continue
        register_secret(secret)
        account = str(org.credentials.get(_ACCOUNT_KEY[org.connector], ""))
        if org.connector == "xero":
            account = account.lower()
        out[org.name] = OrgEndpoint(org.name, org.connector, account, secret)
    return out


def route(path: str, endpoints: dict[str, OrgEndpoint]) -> tuple[str, list[OrgEndpoint]] | None:
    """The provider and candidate orgs for a request path, or None (404)."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) not in (2, 3) or parts[0] != "webhooks" or parts[1] not in PROVIDERS:
        return None
    provider = parts[1]
    if len(parts) == 3:
        one = endpoints.get(parts[2])
        return (provider, [one]) if one is not None and one.provider == provider else None
    found = [e for e in endpoints.values() if e.provider == provider]
    return (provider, found) if found else None
