"""What connecting a company shares across providers: client secrets, tokens, revocation.

Each provider's ``connect.py`` keeps only what differs (where its endpoints are, how it names
the company the user picked, how a connection is deleted); the rest lives here once, so that
two connectors cannot drift apart in how they read credentials, build the token lifecycle or
treat a refused revocation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, SecretStr

from connectors.base import (
    AuthError,
    OAuthEndpoints,
    OAuthTokens,
    TokenStore,
    TransientError,
    require_secure,
)

#: Seconds to wait for a provider's identity endpoints.
TIMEOUT = 30.0


class _Credentials(Protocol):
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr | None


class _Options(Protocol):
    ca_bundle: str | None
    timeout_seconds: float


class TokenFactory(Protocol):
    def __call__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        bootstrap_refresh_token: str,
        store: TokenStore,
        now: Callable[[], datetime],
        ca_bundle: str | None,
        timeout: float,
    ) -> OAuthTokens: ...


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``: where a sandbox serves its identity endpoints."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class OAuthAppKit:
    """The provider-independent half of a connector's :class:`connectors.base.OAuthApp`.

    A subclass names its ``provider`` (as shown to the user), the credentials field that
    pins the company (``tenant_key``) and the function that builds its token lifecycle.
    """

    provider: str
    tenant_key: str
    #: How the revocation endpoint wants the token: a JSON body (Intuit) or a form (Xero).
    revoke_as_json: bool = False

    def token_factory(self) -> TokenFactory:
        """The provider's own token lifecycle (its refresh-token lifetime, its call counter)."""
        raise NotImplementedError

    def client(self, credentials: BaseModel) -> tuple[str, str]:
        creds = cast(_Credentials, credentials)
        return creds.client_id, creds.client_secret.get_secret_value()

    def tenant_of(self, credentials: BaseModel) -> str | None:
        value = getattr(credentials, self.tenant_key, None)
        return str(value) if value else None

    def tokens(
        self,
        endpoints: OAuthEndpoints,
        credentials: BaseModel,
        options: BaseModel,
        store: TokenStore,
        now: Callable[[], datetime],
    ) -> OAuthTokens:
        creds = cast(_Credentials, credentials)
        opts = cast(_Options, options)
        return self.token_factory()(
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

    def revoke(
        self,
        endpoints: OAuthEndpoints,
        refresh_token: str,
        client: tuple[str, str],
        http: requests.Session,
    ) -> None:
        """RFC 7009 revocation; a refusal (400/401) means the token is not ours to revoke."""
        require_secure(endpoints.revocation_url)
        body = {"token": refresh_token}
        sent: dict[str, Any] = (
            {"json": body, "headers": {"Accept": "application/json"}}
            if self.revoke_as_json
            else {"data": body}
        )
        try:
            response = http.post(endpoints.revocation_url, auth=client, timeout=TIMEOUT, **sent)
        except requests.RequestException as exc:
            raise TransientError(f"revocation endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code in (400, 401):
            raise AuthError(f"{self.provider} refused the revocation (HTTP {response.status_code})")
        if response.status_code != 200:
            raise TransientError(f"revocation endpoint answered HTTP {response.status_code}")
