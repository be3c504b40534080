"""OAuth 2 tokens for one Xero connection, owned by syncd rather than by xero-python.

xero-python refreshes inside whatever call happens to notice an expired token, keeps the token
URL as a class attribute of its ``TokenApi`` and reports a refused refresh as a bare
``Exception``. Xero rotates the refresh token on every use, so losing the rotated one means a
human must reconnect the organisation. syncd therefore refreshes itself: a plain form post to
``token_url``, the rotated refresh token saved through :class:`TokenStore` *before* the new
access token is used, and the SDK only ever sees an access token that is already valid.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import AuthError, ConnectorError, TokenState, TokenStore, TransientError

XERO_TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a secret
#: Xero drops a refresh token that has not been used for 60 days.
REFRESH_TOKEN_LIFETIME = timedelta(days=60)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """Bearer tokens and client secrets travel only over HTTPS, except to a local sandbox."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ConnectorError(f"refusing to send credentials over plain HTTP to {url}")


class Unauthorized(ConnectorError):
    """The API answered 401: the access token expired early or was revoked."""


class OAuthTokens:
    """One connection's tokens; safe to share between the threads of one process."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        bootstrap_refresh_token: str,
        store: TokenStore,
        now: Callable[[], datetime],
        ca_bundle: str | None = None,
        margin: timedelta = timedelta(minutes=5),
        timeout: float = 60,
    ) -> None:
        require_secure(token_url)
        self._token_url = token_url
        self._client = (client_id, client_secret)
        self._bootstrap = bootstrap_refresh_token
        self._store = store
        self._now = now
        self._margin = margin
        self._timeout = timeout
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
        # The stored (rotated) token wins; the configured one is tried when a user reconnected
        # the organisation and pasted a new token into the config.
        candidates = [t for t in (state.refresh_token, self._bootstrap) if t]
        last_error: AuthError | None = None
        for refresh_token in dict.fromkeys(candidates):
            try:
                return self._exchange(refresh_token)
            except AuthError as exc:
                last_error = exc
        raise last_error or AuthError("no refresh token; connect the organisation first")

    def _exchange(self, refresh_token: str) -> str:
        try:
            response = self._http.post(
                self._token_url,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=self._client,  # HTTP Basic keeps the secret out of the form body
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise TransientError(f"token endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code in (400, 401):
            error = _json(response).get("error", f"HTTP {response.status_code}")
            raise AuthError(f"Xero refused the token refresh ({error}); reconnect the organisation")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"token endpoint answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AuthError(f"token endpoint answered HTTP {response.status_code}")
        body = _json(response)
        try:
            access, expires_in = str(body["access_token"]), int(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise TransientError("token endpoint answered without access_token") from None
        now = self._now()
        # Saved before anyone uses the new access token: the old refresh token is now on its
        # way out, and the new one exists nowhere else.
        self._store.save(
            TokenState(
                access_token=access,
                access_expires_at=now + timedelta(seconds=expires_in),
                refresh_token=str(body.get("refresh_token") or refresh_token),
                refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
            )
        )
        self.refreshes += 1
        return access

    def close(self) -> None:
        self._http.close()


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
