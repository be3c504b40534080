"""Connecting a QuickBooks Online company: Intuit's endpoints, the callback's ``realmId``,
revocation.

A local sandbox is found through its OpenID discovery document (as Intuit's own SDKs find
Intuit); the real endpoints are the ones in Intuit's published discovery document. Intuit's
document advertises no ``code_challenge_methods_supported``, so PKCE is used only where a
discovery document advertises S256.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel

from connectors.base import (
    AuthError,
    OAuthEndpoints,
    OAuthTokens,
    PermanentError,
    Tenant,
    TokenStore,
    TransientError,
    require_secure,
)

from .auth import INTUIT_TOKEN_URL, quickbooks_tokens
from .settings import QuickBooksCredentials, QuickBooksOptions

INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
INTUIT_REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
DISCOVERY_PATH = "/.well-known/openid_configuration"
SCOPE = "com.intuit.quickbooks.accounting"
TIMEOUT = 30.0


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class QuickBooksOAuthApp:
    tenant_key = "realm_id"

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
        doc = self._discovery(_origin(base_url) + DISCOVERY_PATH, http)
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

    def client(self, credentials: BaseModel) -> tuple[str, str]:
        creds = cast(QuickBooksCredentials, credentials)
        return creds.client_id, creds.client_secret.get_secret_value()

    def tenant_of(self, credentials: BaseModel) -> str | None:
        return cast(QuickBooksCredentials, credentials).realm_id

    def tokens(
        self,
        endpoints: OAuthEndpoints,
        credentials: BaseModel,
        options: BaseModel,
        store: TokenStore,
        now: Callable[[], datetime],
    ) -> OAuthTokens:
        creds = cast(QuickBooksCredentials, credentials)
        opts = cast(QuickBooksOptions, options)
        return quickbooks_tokens(
            token_url=endpoints.token_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret.get_secret_value(),
            bootstrap_refresh_token=(
                creds.refresh_token.get_secret_value() if creds.refresh_token else ""
            ),
            store=store,
            now=now,
            ca_bundle=opts.ca_bundle,
            timeout=opts.timeout_seconds,
        )

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

    def revoke(
        self,
        endpoints: OAuthEndpoints,
        refresh_token: str,
        client: tuple[str, str],
        http: requests.Session,
    ) -> None:
        require_secure(endpoints.revocation_url)
        try:
            response = http.post(
                endpoints.revocation_url,
                json={"token": refresh_token},
                auth=client,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise TransientError(f"revocation endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code in (400, 401):
            raise AuthError(f"Intuit refused the revocation (HTTP {response.status_code})")
        if response.status_code != 200:
            raise TransientError(f"revocation endpoint answered HTTP {response.status_code}")

    def disconnect(
        self,
        endpoints: OAuthEndpoints,
        tenant_id: str,
        access_token: str,
        http: requests.Session,
    ) -> None:
        """Intuit has no separate connection: revoking the refresh token disconnects."""
