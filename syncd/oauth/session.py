"""``syncd connect`` and ``syncd disconnect`` for one configured org, provider-independent.

The provider's half (endpoints, how the organisation is named, revocation) comes from the
connector factory's ``oauth_app``, found through the entry point registry; syncd never
imports a connector package. Tokens reach the store only once the organisation is settled,
so a refused, forged or abandoned sign-in stores nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from connectors.base import (
    ConnectorError,
    OAuthApp,
    OAuthEndpoints,
    Tenant,
    TokenState,
    TransientError,
)
from syncd.clock import Clock
from syncd.config.loader import LoadedConfig, OrgConnectorSettings
from syncd.config.models import OrgSettings
from syncd.connections import org_id_for
from syncd.registry import get_factory
from syncd.store import Store
from syncd.store.audit import record
from syncd.tokens import StoredTokens, load_cipher

from .flow import (
    Callback,
    ConnectFlowError,
    authorization_request,
    code_from,
    require_one_side,
)

TITLES = {"quickbooks": "QuickBooks", "xero": "Xero"}


class MemoryTokens:
    """Holds the first tokens until the organisation is settled (``TokenStore``)."""

    def __init__(self) -> None:
        self.state = TokenState()

    def load(self) -> TokenState:
        return self.state

    def save(self, state: TokenState) -> None:
        self.state = state


@dataclass(frozen=True)
class Target:
    """One configured org and its connector's OAuth half."""

    org: OrgSettings
    settings: OrgConnectorSettings
    app: OAuthApp
    endpoints: OAuthEndpoints

    @property
    def title(self) -> str:
        return TITLES.get(self.org.connector, self.org.connector)


def target(config: LoadedConfig, name: str, provider: str | None, http: requests.Session) -> Target:
    try:
        org = config.settings.org(name)
    except KeyError:
        raise ConnectFlowError(
            f"no org named {name!r} in {config.path}; add an [[orgs]] table with that name, "
            "its connector and [orgs.credentials] client_id and client_secret first",
            2,
        ) from None
    if provider is not None and org.connector != provider:
        raise ConnectFlowError(
            f"org {name!r} in {config.path} uses connector {org.connector!r}, not {provider!r}",
            2,
        )
    app: OAuthApp | None = getattr(get_factory(org.connector), "oauth_app", None)
    if app is None:
        raise ConnectFlowError(f"the {org.connector} connector cannot be connected by syncd")
    endpoints = app.endpoints(org.base_url, org.token_url, http)
    require_one_side(endpoints)
    return Target(org, config.connectors[name], app, endpoints)


def choose(tenants: list[Tenant], wanted: str | None, title: str) -> Tenant:
    if not tenants:
        raise ConnectFlowError(f"the {title} sign-in gave access to no organisation")
    if wanted:
        for tenant in tenants:
            if wanted.lower() in (tenant.id.lower(), tenant.name.lower()):
                return tenant
        raise ConnectFlowError(f"{wanted!r} is not among the organisations: {_listing(tenants)}")
    if len(tenants) == 1:
        return tenants[0]
    if not sys.stdin.isatty():
        raise ConnectFlowError(
            f"the sign-in reaches several organisations ({_listing(tenants)}); pass --tenant ID"
        )
    for i, tenant in enumerate(tenants, 1):
        print(f"  {i}. {tenant.name} ({tenant.id})", file=sys.stderr)
    print(f"Which organisation (1-{len(tenants)})? ", end="", file=sys.stderr, flush=True)
    answer = input().strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(tenants):
        raise ConnectFlowError(f"no organisation number {answer!r}; nothing was stored")
    return tenants[int(answer) - 1]


def _listing(tenants: list[Tenant]) -> str:
    return ", ".join(f"{t.name} ({t.id})" for t in tenants)


@dataclass(frozen=True)
class Connected:
    tenant: Tenant
    tenant_key: str


def sign_in(
    t: Target,
    listener: Callback,
    show_url: Callable[[str], None],
    *,
    tenant: str | None,
    timeout: float,
    http: requests.Session,
    clock: Clock,
) -> tuple[Connected, TokenState]:
    """Run the browser half and the code exchange; nothing is stored yet."""
    client_id, _ = t.app.client(t.settings.credentials)
    request = authorization_request(t.endpoints, client_id, listener.redirect_uri)
    show_url(request.url)
    params = listener.wait(request.state, timeout)
    code = code_from(params, t.title)
    memory = MemoryTokens()
    creds, options = t.settings.credentials, t.settings.options
    tokens = t.app.tokens(t.endpoints, creds, options, memory, clock.now)
    try:
        access = tokens.redeem_code(
            code, redirect_uri=request.redirect_uri, code_verifier=request.code_verifier
        )
        tenants = t.app.tenants(t.endpoints, params, access, http)
    finally:
        tokens.close()
    configured = t.app.tenant_of(t.settings.credentials)
    chosen = choose(tenants, tenant or configured, t.title)
    if configured and chosen.id.lower() != configured.lower():
        raise ConnectFlowError(
            f"org {t.org.name!r} is configured for {t.app.tenant_key} {configured}, but the "
            f"sign-in chose {chosen.id}; its stored data belongs to the first. Connect the "
            "other organisation under a new org name"
        )
    return Connected(chosen, t.app.tenant_key), memory.state


def store_tokens(
    store: Store,
    config: LoadedConfig,
    name: str,
    clock: Clock,
    state: TokenState,
    connected: Connected,
) -> None:
    """Encrypted into the org's row; replaces whatever an earlier connection left there."""
    org_id = org_id_for(store, config, name, clock)
    StoredTokens(store.sessions, org_id, load_cipher(config), clock).save(state)
    _audit(
        store,
        clock,
        org_id,
        "org.connected",
        name,
        **{connected.tenant_key: connected.tenant.id, "tenant_name": connected.tenant.name},
    )


def _audit(store: Store, clock: Clock, org_id: int, event: str, name: str, **details: Any) -> None:
    with store.sessions.begin() as session:
        record(
            session,
            at=clock.now(),
            event=event,
            actor="syncd connect",
            org_id=org_id,
            subject_type="org",
            subject_id=name,
            **details,
        )


@dataclass(frozen=True)
class Disconnected:
    revoked: bool
    connection_removed: bool
    notes: tuple[str, ...]


def disconnect(
    t: Target, store: Store, config: LoadedConfig, clock: Clock, http: requests.Session
) -> Disconnected:
    """Remove the connection (where the provider has one), revoke the grant, forget tokens.

    A provider that cannot be reached leaves everything as it was (run it again); tokens the
    provider no longer accepts are forgotten all the same.
    """
    org_id = org_id_for(store, config, t.org.name, clock)
    stored = StoredTokens(store.sessions, org_id, load_cipher(config), clock)
    creds = t.settings.credentials
    tokens = t.app.tokens(t.endpoints, creds, t.settings.options, stored, clock.now)
    bootstrap = getattr(creds, "refresh_token", None)
    if not stored.load().refresh_token and bootstrap is None:
        raise ConnectFlowError(f"org {t.org.name!r} is not connected (no tokens stored)")
    notes: list[str] = []
    removed = False
    tenant = t.app.tenant_of(creds)
    try:
        if t.endpoints.connections_url is not None and tenant:
            try:
                t.app.disconnect(t.endpoints, tenant, tokens.access_token(), http)
                removed = True
            except TransientError:
                raise
            except ConnectorError as exc:
                notes.append(f"connection not removed: {exc}")
        refresh = stored.load().refresh_token or (
            bootstrap.get_secret_value() if bootstrap is not None else ""
        )
        revoked = False
        try:
            t.app.revoke(t.endpoints, refresh, t.app.client(creds), http)
            revoked = True
        except TransientError:
            raise
        except ConnectorError as exc:
            notes.append(f"revocation refused ({exc}); the grant was already dead")
    except TransientError as exc:
        raise ConnectFlowError(
            f"{t.title} could not be reached ({exc}); nothing was changed, run the command again"
        ) from None
    finally:
        tokens.close()
    stored.save(TokenState())
    done = Disconnected(revoked, removed, tuple(notes))
    _audit(
        store,
        clock,
        org_id,
        "org.disconnected",
        t.org.name,
        revoked=revoked,
        connection_removed=removed,
        notes=list(notes),
    )
    return done
