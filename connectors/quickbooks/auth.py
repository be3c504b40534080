"""OAuth 2 tokens and the HTTP session python-quickbooks sends its requests through.

python-quickbooks refreshes only when a client is built and never persists the rotated refresh
token, and intuit-oauth downloads a discovery document as soon as it is constructed. syncd
therefore owns the token lifecycle: the refresh is a plain form post to ``token_url``, the
rotated refresh token is saved durably *before* the new access token is used, and the session
handed to python-quickbooks classifies HTTP failures (401, 429, 5xx, timeouts) before the SDK
tries to parse them.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import AuthError, ConnectorError, TokenState, TokenStore, TransientError

INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure(url: str) -> None:
    """Bearer tokens travel only over HTTPS, except to a sandbox on this machine."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ConnectorError(f"refusing to send credentials over plain HTTP to {url}")


class Unauthorized(ConnectorError):
    """The API answered 401: the access token expired early or was revoked."""


class OAuthTokens:
    """One connection's tokens; safe to share between threads of one process."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        bootstrap_refresh_token: str,
        store: TokenStore,
        http: requests.Session,
        now: Callable[[], datetime],
        margin: timedelta = timedelta(minutes=5),
        timeout: float = 60,
    ) -> None:
        require_secure(token_url)
        self._token_url = token_url
        self._client = (client_id, client_secret)
        self._bootstrap = bootstrap_refresh_token
        self._store = store
        self._http = http
        self._now = now
        self._margin = margin
        self._timeout = timeout
        self._lock = threading.Lock()
        self.refreshes = 0

    def access_token(self) -> str:
        with self._lock:
            state = self._store.load()
            if self._fresh(state):
                assert state.access_token is not None
                return state.access_token
            return self._refresh(state)

    def after_unauthorized(self, rejected: str) -> str:
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
        # The stored (rotated) token wins; the configured one is tried when a user reconnected
        # the org and pasted a new token into the config.
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
                auth=self._client,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise TransientError(f"token endpoint unreachable: {type(exc).__name__}") from None
        if response.status_code in (400, 401):
            error = _json(response).get("error", f"HTTP {response.status_code}")
            raise AuthError(f"token refresh refused ({error}); reconnect the organisation")
        if response.status_code != 200:
            raise TransientError(f"token endpoint answered HTTP {response.status_code}")
        body = _json(response)
        try:
            access, expires_in = str(body["access_token"]), int(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise TransientError("token endpoint answered without access_token") from None
        now = self._now()
        new_refresh = str(body.get("refresh_token") or refresh_token)
        refresh_ttl = body.get("x_refresh_token_expires_in")
        self._store.save(
            TokenState(
                access_token=access,
                access_expires_at=now + timedelta(seconds=expires_in),
                refresh_token=new_refresh,
                refresh_expires_at=now + timedelta(seconds=int(refresh_ttl))
                if refresh_ttl
                else None,
            )
        )
        self.refreshes += 1
        return access


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class RateLimiter:
    """At most ``limit`` calls in any ``period`` seconds, by sleeping before the call."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.period = limit, period
        self._monotonic, self._sleep = monotonic, sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while True:
                now = self._monotonic()
                while self._calls and now - self._calls[0] >= self.period:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return
                self._sleep(self.period - (now - self._calls[0]))


class ApiSession(requests.Session):
    """The ``session`` python-quickbooks calls; it reads ``access_token`` for every request."""

    def __init__(
        self, tokens: OAuthTokens, limiter: RateLimiter, *, timeout: float, ca_bundle: str | None
    ) -> None:
        super().__init__()
        self._tokens = tokens
        self._limiter = limiter
        self._timeout = timeout
        if ca_bundle:
            self.verify = ca_bundle
        self.calls = 0

    @property
    def access_token(self) -> str:
        return self._tokens.access_token()

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text_url = url.decode() if isinstance(url, bytes) else url
        require_secure(text_url)
        kwargs.setdefault("timeout", self._timeout)
        self._limiter.acquire()
        self.calls += 1
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.Timeout:
            raise TransientError(f"timed out: {method!s} {urlsplit(text_url).path}") from None
        except requests.ConnectionError:
            raise TransientError(f"connection failed: {urlsplit(text_url).netloc}") from None
        if response.status_code == 401:
            raise Unauthorized("access token rejected (HTTP 401)")
        if response.status_code == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            # Intuit sends no Retry-After; its documentation says to wait a minute.
            raise TransientError("throttled (HTTP 429)", retry_after=retry_after or 60.0)
        if response.status_code >= 500:
            raise TransientError(f"server error HTTP {response.status_code}")
        return response


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
