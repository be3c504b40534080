"""Connecting a Xero organisation: Xero's identity endpoints, ``/connections``, revocation.

A local sandbox serves the identity endpoints on the host of its ``base_url`` (at Xero they
live on ``login.xero.com``, ``identity.xero.com`` and ``api.xero.com``). Xero supports PKCE,
so every authorization request carries an S256 challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from connectors.base import (
    AuthError,
    OAuthEndpoints,
    PermanentError,
    Tenant,
    TransientError,
    require_secure,
)
from connectors.kit.oauth_app import TIMEOUT, OAuthAppKit, TokenFactory, origin

from .auth import XERO_TOKEN_URL, xero_tokens

XERO_AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
XERO_REVOCATION_URL = "https://identity.xero.com/connect/revocation"
XERO_CONNECTIONS_URL = "https://api.xero.com/connections"
SCOPE = "offline_access accounting.transactions accounting.contacts accounting.settings"


class XeroOAuthApp(OAuthAppKit):
    provider = "Xero"
    tenant_key = "tenant_id"

    def endpoints(
        self, base_url: str | None, token_url: str | None, http: requests.Session
    ) -> OAuthEndpoints:
        if base_url is None:
            return OAuthEndpoints(
                authorize_url=XERO_AUTHORIZE_URL,
                token_url=token_url or XERO_TOKEN_URL,
                revocation_url=XERO_REVOCATION_URL,
                scope=SCOPE,
                pkce=True,
                connections_url=XERO_CONNECTIONS_URL,
            )
        root = origin(base_url)
        return OAuthEndpoints(
            authorize_url=f"{root}/identity/connect/authorize",
            token_url=token_url or f"{root}/connect/token",
            revocation_url=f"{root}/connect/revocation",
            scope=SCOPE,
            pkce=True,
            connections_url=f"{root}/connections",
        )

    def token_factory(self) -> TokenFactory:
        return xero_tokens

    def _call(
        self, http: requests.Session, method: str, url: str, access_token: str
    ) -> requests.Response:
        require_secure(url)
        try:
            return http.request(
                method,
                url,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise TransientError(f"Xero unreachable: {type(exc).__name__}") from None

    def _connections(
        self, endpoints: OAuthEndpoints, access_token: str, http: requests.Session
    ) -> list[dict[str, Any]]:
        url = endpoints.connections_url or XERO_CONNECTIONS_URL
        response = self._call(http, "GET", url, access_token)
        if response.status_code in (401, 403):
            raise AuthError(f"Xero refused to list the connections (HTTP {response.status_code})")
        if response.status_code != 200:
            raise TransientError(f"Xero answered HTTP {response.status_code} for /connections")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise PermanentError("Xero's /connections answer is not a list")
        return [c for c in body if isinstance(c, dict)]

    def tenants(
        self,
        endpoints: OAuthEndpoints,
        callback: Mapping[str, str],
        access_token: str,
        http: requests.Session,
    ) -> list[Tenant]:
        return [
            Tenant(
                id=str(c.get("tenantId", "")),
                name=str(c.get("tenantName") or c.get("tenantId")),
                connection_id=str(c["id"]) if c.get("id") else None,
            )
            for c in self._connections(endpoints, access_token, http)
            if c.get("tenantType", "ORGANISATION") == "ORGANISATION" and c.get("tenantId")
        ]

    def disconnect(
        self,
        endpoints: OAuthEndpoints,
        tenant_id: str,
        access_token: str,
        http: requests.Session,
    ) -> None:
        url = endpoints.connections_url or XERO_CONNECTIONS_URL
        for conn in self._connections(endpoints, access_token, http):
            if str(conn.get("tenantId", "")).lower() == tenant_id.lower() and conn.get("id"):
                response = self._call(http, "DELETE", f"{url}/{conn['id']}", access_token)
                if response.status_code not in (200, 204, 404):
                    raise TransientError(
                        f"Xero answered HTTP {response.status_code} deleting the connection"
                    )
