"""OAuth 2 tokens and the HTTP session python-quickbooks sends its requests through.

python-quickbooks refreshes only when a client is built and never persists the rotated refresh
token, and intuit-oauth downloads a discovery document as soon as it is constructed. syncd
therefore owns the token lifecycle: the refresh is a plain form post to ``token_url``, the
rotated refresh token is saved durably *before* the new access token is used, and the session
handed to python-quickbooks classifies HTTP failures (401, 429, 5xx, timeouts) before the SDK
tries to parse them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters

from connectors.base import (
    OAuthTokens,
    TokenStore,
    TransientError,
    require_secure,
)
from connectors.kit import RateLimited, Unauthorized, log_rate_limit_wait, report_call

#: The name API calls are counted under (the connector's entry-point name).
PROVIDER = "quickbooks"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105
#: Intuit allows 10 requests in flight per company; streams pulled in parallel share this.
MAX_CONCURRENT = 10


def quickbooks_tokens(
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    bootstrap_refresh_token: str,
    store: TokenStore,
    now: Callable[[], datetime],
    ca_bundle: str | None,
    timeout: float,
) -> OAuthTokens:
    """Intuit states each refresh token's lifetime in ``x_refresh_token_expires_in``."""
    return OAuthTokens(
        provider="QuickBooks",
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        bootstrap_refresh_token=bootstrap_refresh_token,
        store=store,
        now=now,
        ca_bundle=ca_bundle,
        timeout=timeout,
        on_answer=lambda status: report_call(PROVIDER, status, endpoint="token"),
    )


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
                delay = self.period - (now - self._calls[0])
                log_rate_limit_wait("QuickBooks", f"{self.limit} calls a minute reached", delay)
                self._sleep(delay)


class ApiSession(requests.Session):
    """The ``session`` python-quickbooks calls; it reads ``access_token`` for every request.

    One session serves every thread of a connector (backfill streams run in parallel): the
    token store and the rate limiter lock, urllib3's pool is thread-safe and sized to the
    cap, and a semaphore keeps at most ``MAX_CONCURRENT`` requests in flight."""

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
        self._in_flight = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._count_lock = threading.Lock()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_CONCURRENT)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

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
        with self._count_lock:
            self.calls += 1
        streamed = bool(kwargs.get("stream"))
        kwargs["stream"] = True
        try:
            with self._in_flight:
                response = super().request(method, url, *args, **kwargs)
                if not streamed:
                    _read_body(response)
        except requests.Timeout:
            report_call(PROVIDER, None)
            raise TransientError(f"timed out: {method!s} {urlsplit(text_url).path}") from None
        except requests.ConnectionError:
            report_call(PROVIDER, None)
            raise TransientError(f"connection failed: {urlsplit(text_url).netloc}") from None
        report_call(PROVIDER, response.status_code)
        if response.status_code == 401:
            raise Unauthorized("access token rejected (HTTP 401)")
        if response.status_code == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            # Intuit sends no Retry-After; its documentation says to wait a minute.
            raise RateLimited("throttled (HTTP 429)", retry_after=retry_after or 60.0)
        if response.status_code >= 500:
            raise TransientError(f"server error HTTP {response.status_code}")
        return response


#: One read of up to this many bytes at a time: a 2 MB page of 1,000 invoices in a few reads.
BODY_CHUNK = 1 << 20


def _read_body(response: requests.Response) -> None:
    """The whole body, read as ``requests`` would without ``stream`` but in 1 MB reads.

    ``requests`` reads a body in 10 KB chunks, each through half a dozen Python frames of
    ``requests`` and ``urllib3``: for a 2 MB page that was 3 to 4 ms of CPU, a quarter of what
    mapping the page costs. Reading it here, still inside the in-flight semaphore and the
    timeout handling, keeps the same bytes, decoding, errors and connection reuse."""
    if response.status_code == 0 or response.raw is None:
        response._content = None
    else:
        response._content = b"".join(response.iter_content(BODY_CHUNK)) or b""
    setattr(response, "_content_consumed", True)  # noqa: B010 - undeclared in the stubs


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
