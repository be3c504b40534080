"""Connecting a QuickBooks Online company: Intuit's endpoints, the callback's ``realmId``,
revocation.

A local sandbox is found through its OpenID discovery document (as Intuit's own SDKs find
Intuit); the real endpoints are the ones in Intuit's published discovery document. Intuit's
document advertises no ``code_challenge_methods_supported``, so PKCE is used only where a
discovery document advertises S256.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from connectors.base import (
    OAuthEndpoints,
    PermanentError,
    Tenant,
    TransientError,
    require_secure,
)
from connectors.kit.oauth_app import TIMEOUT, OAuthAppKit, TokenFactory, origin

from .auth import INTUIT_TOKEN_URL, quickbooks_tokens

INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
INTUIT_REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
DISCOVERY_PATH = "/.well-known/openid_configuration"
SCOPE = "com.intuit.quickbooks.accounting"


class QuickBooksOAuthApp(OAuthAppKit):
    provider = "Intuit"
    tenant_key = "realm_id"
    revoke_as_json = True

    def endpoints(
        self, base_url: str | None, token_url: str | None, http: requests.Session
    ) -> OAuthEndpoints:
        if base_url is None:
            return OAuthEndpoints(
                authorize_url=INTUIT_AUTHORIZE_URL,
                token_url=token_url or INTUIT_TOKEN_URL,
                revocation_url=INTUIT_REVOKE_URL,
                scope=SCOPE,
                pkce=False,
            )
        doc = self._discovery(origin(base_url) + DISCOVERY_PATH, http)
        try:
            found = OAuthEndpoints(
                authorize_url=str(doc["authorization_endpoint"]),
                token_url=token_url or str(doc["token_endpoint"]),
                revocation_url=str(doc["revocation_endpoint"]),
                scope=SCOPE,
                pkce="S256" in (doc.get("code_challenge_methods_supported") or []),
            )
        except KeyError as exc:
            raise PermanentError(f"the discovery document at {base_url} lacks {exc}") from None
        return found

    @staticmethod
    def _discovery(url: str, http: requests.Session) -> dict[str, Any]:
        require_secure(url)
        try:
            response = http.get(url, headers={"Accept": "application/json"}, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise TransientError(f"cannot read {url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise PermanentError(f"{url} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise PermanentError(f"{url} is not a JSON discovery document") from None
        if not isinstance(body, dict):
            raise PermanentError(f"{url} is not a JSON discovery document")
        return body

    def token_factory(self) -> TokenFactory:
        return quickbooks_tokens

    def tenants(
        self,
        endpoints: OAuthEndpoints,
        callback: Mapping[str, str],
        access_token: str,
        http: requests.Session,
    ) -> list[Tenant]:
        realm = callback.get("realmId", "").strip()
        if not realm:
            raise PermanentError("Intuit's redirect named no company (realmId missing)")
        return [Tenant(id=realm, name=realm)]

    def disconnect(
        self,
        endpoints: OAuthEndpoints,
        tenant_id: str,
        access_token: str,
        http: requests.Session,
    ) -> None:
        """Intuit has no separate connection: revoking the refresh token disconnects."""
