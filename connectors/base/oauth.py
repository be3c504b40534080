"""OAuth 2 with rotating refresh tokens, shared by connectors, and connecting an organisation.

Providers rotate refresh tokens and the SDKs neither persist the rotated one nor refresh
predictably, so syncd refreshes itself (:class:`OAuthTokens`) and keeps the tokens through a
:class:`TokenStore` it owns; :class:`OAuthApp` is the provider-specific half of ``syncd
connect`` / ``syncd disconnect``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from pydantic import BaseModel

from connectors.base.errors import AuthError, TransientError
from connectors.base.urls import require_secure


@dataclass(slots=True)
class TokenState:
    access_token: str | None = None
    access_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


class TokenStore(Protocol):
    """Durable token storage owned by syncd; ``save`` must commit before it returns."""

    def load(self) -> TokenState: ...

    def save(self, state: TokenState) -> None: ...


class OAuthTokens:
    """One connection's tokens, refreshed by syncd itself; safe to share between threads.

    Providers rotate refresh tokens and the SDKs neither persist the rotated one nor refresh
    predictably, so the refresh is a plain form post to ``token_url`` and the rotated refresh
    token is saved through :class:`TokenStore` *before* the new access token is used. The
    stored token wins; the configured one is tried when a user reconnected the organisation
    and pasted a new token into the config. ``refresh_lifetime`` is the provider's documented
    refresh-token lifetime; without it the response's ``x_refresh_token_expires_in`` is used.
    """

    def __init__(
        self,
        *,
        provider: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        bootstrap_refresh_token: str,
        store: TokenStore,
        now: Callable[[], datetime],
        ca_bundle: str | None = None,
        margin: timedelta = timedelta(minutes=5),
        timeout: float = 60,
        refresh_lifetime: timedelta | None = None,
        on_answer: Callable[[int | None], None] | None = None,
    ) -> None:
        require_secure(token_url)
        self._provider = provider
        self._token_url = token_url
        self._client = (client_id, client_secret)
        self._bootstrap = bootstrap_refresh_token
        self._store = store
        self._now = now
        self._margin = margin
        self._timeout = timeout
        self._refresh_lifetime = refresh_lifetime
        #: Told the HTTP status of each token request (None: no answer), for call counting.
        self._on_answer = on_answer or (lambda _status: None)
        self._http = requests.Session()
        if ca_bundle:
            self._http.verify = ca_bundle
        self._lock = threading.Lock()
        self.refreshes = 0

    def access_token(self) -> str:
        with self._lock:
            state = self._store.load()
            if self._fresh(state):
                assert state.access_token is not None
                return state.access_token
            return self._refresh(state)

    def after_unauthorized(self, rejected: str | None) -> str:
        """Refresh once after a 401, unless another caller already replaced the token."""
        with self._lock:
            state = self._store.load()
            if state.access_token and state.access_token != rejected and self._fresh(state):
                return state.access_token
            return self._refresh(state)

    def _fresh(self, state: TokenState) -> bool:
        return bool(
            state.access_token
            and state.access_expires_at
            and state.access_expires_at - self._margin > self._now()
        )

    def _refresh(self, state: TokenState) -> str:
        candidates = [t for t in (state.refresh_token, self._bootstrap) if t]
        last_error: AuthError | None = None
        for refresh_token in dict.fromkeys(candidates):
            try:
                return self._exchange(refresh_token)
            except AuthError as exc:
                last_error = exc
        raise last_error or AuthError(
            "no refresh token; connect the organisation first (syncd connect)"
        )

    def redeem_code(self, code: str, *, redirect_uri: str, code_verifier: str | None) -> str:
        """Exchange an authorization code (``syncd connect``); the tokens are saved first."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        with self._lock:
            return self._grant(form, None, "the authorization code", "sign in again")

    def _exchange(self, refresh_token: str) -> str:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        access = self._grant(form, refresh_token, "the token refresh", "reconnect the organisation")
        self.refreshes += 1
        return access

    def _grant(
        self, form: dict[str, str], refresh_token: str | None, what: str, remedy: str
    ) -> str:
        try:
            response = self._http.post(
                self._token_url,
                data=form,
                auth=self._client,  # HTTP Basic keeps the secret out of the form body
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            self._on_answer(None)
            raise TransientError(f"token endpoint unreachable: {type(exc).__name__}") from None
        self._on_answer(response.status_code)
        if response.status_code in (400, 401):
            error = _json_object(response).get("error", f"HTTP {response.status_code}")
            raise AuthError(f"{self._provider} refused {what} ({error}); {remedy}")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"token endpoint answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AuthError(f"token endpoint answered HTTP {response.status_code}")
        body = _json_object(response)
        try:
            access, expires_in = str(body["access_token"]), int(body["expires_in"])
            rotated = str(body.get("refresh_token") or refresh_token or "")
        except (KeyError, TypeError, ValueError):
            raise TransientError("token endpoint answered without access_token") from None
        if not rotated:
            raise AuthError(
                f"{self._provider} issued no refresh token (is offline access granted?)"
            )
        now = self._now()
        lifetime = self._refresh_lifetime
        if lifetime is None and body.get("x_refresh_token_expires_in"):
            lifetime = timedelta(seconds=int(body["x_refresh_token_expires_in"]))
        # Saved before anyone uses the new access token: the old refresh token is now on its
        # way out, and the new one exists nowhere else.
        self._store.save(
            TokenState(
                access_token=access,
                access_expires_at=now + timedelta(seconds=expires_in),
                refresh_token=rotated,
                refresh_expires_at=now + lifetime if lifetime else None,
            )
        )
        return access

    def close(self) -> None:
        self._http.close()


# -- Connecting an organisation (``syncd connect`` / ``syncd disconnect``) ---------------


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """Where one provider's authorization-code flow happens: all at the real provider or all
    at one local sandbox, never a mix (a sandbox's code must never reach a real provider)."""

    authorize_url: str
    token_url: str
    revocation_url: str
    scope: str
    #: Send a PKCE (S256) challenge: only where the provider documents support for it.
    pkce: bool
    #: Where the organisations a grant reaches are listed (Xero); ``None``: the callback
    #: names the organisation (QuickBooks ``realmId``).
    connections_url: str | None = None


@dataclass(frozen=True, slots=True)
class Tenant:
    """An organisation a grant reaches."""

    id: str
    name: str
    #: The provider's id of the app's connection to it (Xero), used to disconnect.
    connection_id: str | None = None


class OAuthApp(Protocol):
    """The provider-specific half of connecting; a factory offers it as ``oauth_app``.

    Every network call raises :class:`ConnectorError` subclasses with messages fit for the
    user; none of them contains a token or secret.
    """

    #: The ``[orgs.credentials]`` key that names the organisation (``realm_id``, ``tenant_id``).
    tenant_key: str

    def endpoints(
        self, base_url: str | None, token_url: str | None, http: requests.Session
    ) -> OAuthEndpoints: ...

    def client(self, credentials: BaseModel) -> tuple[str, str]:
        """``(client_id, client_secret)`` from the validated ``[orgs.credentials]``."""
        ...

    def tenant_of(self, credentials: BaseModel) -> str | None: ...

    def tokens(
        self,
        endpoints: OAuthEndpoints,
        credentials: BaseModel,
        options: BaseModel,
        store: TokenStore,
        now: Callable[[], datetime],
    ) -> OAuthTokens: ...

    def tenants(
        self,
        endpoints: OAuthEndpoints,
        callback: Mapping[str, str],
        access_token: str,
        http: requests.Session,
    ) -> list[Tenant]: ...

    def revoke(
        self,
        endpoints: OAuthEndpoints,
        refresh_token: str,
        client: tuple[str, str],
        http: requests.Session,
    ) -> None: ...

    def disconnect(
        self,
        endpoints: OAuthEndpoints,
        tenant_id: str,
        access_token: str,
        http: requests.Session,
    ) -> None:
        """Remove the app's connection to the organisation where the provider has one."""
        ...


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
