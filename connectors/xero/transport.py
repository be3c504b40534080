"""The HTTP seam under xero-python: every request the SDK makes passes through here.

xero-python builds URLs, query strings, headers and bodies; this object sends them. It takes
the place of the SDK's ``RESTClientObject`` (same method names) so that, before the SDK sees a
response, it can refuse plain HTTP to anything but a loopback sandbox, pace the call
(:class:`~connectors.xero.limits.RateGovernor`), read the rate-limit headers, and turn 401,
403, 404, 429, 5xx, timeouts and dropped connections into syncd's error classes.

urllib3's default retry policy, which the SDK leaves in place, silently sleeps ``Retry-After``
and resends on 429 and 503; on Xero's day limit that blocks a call for hours. It is switched
off here: retrying is the connector's job (tenacity), where minute and day limits differ.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import urllib3
from urllib3.util.retry import Retry
from xero_python.exceptions import HTTPStatusException

from connectors.base import AuthError, PermanentError, TransientError
from connectors.kit import RateLimited, report_call

from .auth import Unauthorized, require_secure
from .limits import DayLimitReached, RateGovernor


class Throttled(RateLimited):
    """Xero answered 429 for the minute (or concurrency) limit; retry after ``retry_after``."""


class NotFound(PermanentError):
    pass


class Rejected(PermanentError):
    """A 400: Xero's validation messages are in ``messages``."""

    def __init__(self, message: str, messages: list[str]) -> None:
        super().__init__(message)
        self.messages = messages


@dataclass(frozen=True)
class RawResponse:
    """What the SDK hands back for ``_preload_content=False`` calls: the untouched body."""

    status: int
    headers: dict[str, str]
    data: bytes = field(repr=False)

    def json(self) -> Any:
        if not self.data.strip():
            return {}
        try:
            return json.loads(self.data.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            # Xero (and proxies in front of it) occasionally cut a body short.
            raise TransientError("Xero answered with a body that is not JSON") from None

    # The SDK reads these on the object it gets back.
    def getheaders(self) -> dict[str, str]:
        return self.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default


def _retry_after(headers: dict[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def validation_messages(body: Any) -> list[str]:
    """Xero's 400 bodies: ``Elements[].ValidationErrors[].Message``, else ``Message``/``Detail``."""
    messages: list[str] = []
    if isinstance(body, dict):
        for element in body.get("Elements") or []:
            if isinstance(element, dict):
                for error in element.get("ValidationErrors") or []:
                    if isinstance(error, dict) and error.get("Message"):
                        messages.append(str(error["Message"]))
        if not messages:
            for key in ("Message", "Detail", "Title"):
                if body.get(key):
                    messages.append(str(body[key]))
                    break
    return messages


class XeroTransport:
    """Stands in for ``ApiClient.rest_client``; wraps the SDK's own pool manager."""

    def __init__(self, inner: Any, governor: RateGovernor, *, timeout: float) -> None:
        self._inner = inner
        self._governor = governor
        self._timeout = timeout
        inner.pool_manager.connection_pool_kw["retries"] = Retry(total=False, redirect=False)
        self._local = threading.local()

    @property
    def last_token(self) -> str | None:
        """The access token this thread last sent (streams run in threads: a 401 must name
        the token of the call that got it, not another thread's)."""
        token: str | None = getattr(self._local, "token", None)
        return token

    @last_token.setter
    def last_token(self, value: str | None) -> None:
        self._local.token = value

    @property
    def pool_manager(self) -> Any:
        return self._inner.pool_manager

    def request(
        self,
        method: str,
        url: str,
        query_params: Any = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        post_params: Any = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> RawResponse:
        require_secure(url)
        headers = dict(headers or {})
        auth = headers.get("Authorization", "")
        self.last_token = auth.split(" ", 1)[1] if " " in auth else None
        with self._governor.slot():
            ticket = self._governor.acquire()
            try:
                reply = self._inner.request(
                    method,
                    url,
                    query_params=query_params,
                    headers=headers,
                    body=body,
                    post_params=post_params,
                    # Headers only: Xero has counted the call by the time it answers, so its
                    # minute starts here for us too, not after a large body has been read.
                    _preload_content=False,
                    # The SDK passes an int through and silently drops a float timeout.
                    _request_timeout=(self._timeout, self._timeout),
                )
                self._governor.done(ticket)
                data = _read_body(reply)
            except HTTPStatusException as exc:
                reply = exc.http_resp
                data = reply.data
            except urllib3.exceptions.SSLError as exc:
                report_call("xero", None)
                raise PermanentError(f"TLS failure talking to Xero: {exc}") from None
            except urllib3.exceptions.TimeoutError:
                report_call("xero", None)
                raise TransientError(f"Xero timed out: {method} {_path(url)}") from None
            except urllib3.exceptions.HTTPError as exc:
                report_call("xero", None)
                raise TransientError(
                    f"connection to Xero failed: {type(exc).__name__} on {method} {_path(url)}"
                ) from None
            finally:
                self._governor.done(ticket)
        response = RawResponse(
            status=int(reply.status),
            headers={str(k): str(v) for k, v in dict(reply.getheaders()).items()},
            data=bytes(data or b""),
        )
        report_call("xero", response.status)
        self._governor.observe(response.headers)
        if 200 <= response.status < 300:
            return response
        raise self._classify(method, url, response)

    def _classify(self, method: str, url: str, response: RawResponse) -> Exception:
        status, where = response.status, f"{method} {_path(url)}"
        if status == 401:
            return Unauthorized(f"Xero rejected the access token (HTTP 401) on {where}")
        if status == 403:
            return AuthError(
                "Xero refused access to this organisation (HTTP 403): the tenant is not "
                "connected to this app any more; reconnect it"
            )
        if status == 429:
            problem = (_header(response.headers, "x-rate-limit-problem") or "").lower() or None
            retry_after = _retry_after(response.headers)
            if problem == "day":
                wait = retry_after if retry_after is not None else 3_600.0
                self._governor.refused("day", wait)
                return DayLimitReached(
                    "Xero's daily call limit for this organisation is used up (HTTP 429, "
                    f"problem=day); syncing resumes in {wait / 3600:.1f} h",
                    retry_after=wait,
                )
            wait = retry_after if retry_after is not None else 60.0
            self._governor.refused(problem, wait)
            return Throttled(
                f"Xero throttled {where} ({problem or 'unknown'} limit)", retry_after=wait
            )
        if status >= 500:
            return TransientError(f"Xero answered HTTP {status} on {where}")
        if status == 404:
            return NotFound(f"not found at Xero: {where}")
        try:
            body = response.json()
        except TransientError:
            body = None
        messages = validation_messages(body)
        detail = "; ".join(messages) or f"HTTP {status}"
        return Rejected(f"Xero refused {where}: {detail}"[:600], messages)

    # The verbs ApiClient.request calls on its rest client.
    def GET(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("GET", url, **kwargs)

    def HEAD(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("HEAD", url, **kwargs)

    def OPTIONS(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("OPTIONS", url, **kwargs)

    def DELETE(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("DELETE", url, **kwargs)

    def POST(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("POST", url, **kwargs)

    def PUT(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("PUT", url, **kwargs)

    def PATCH(self, url: str, **kwargs: Any) -> RawResponse:
        return self.request("PATCH", url, **kwargs)

    def close(self) -> None:
        self._inner.pool_manager.clear()


def _read_body(reply: Any) -> bytes:
    """The whole body of a response whose headers alone were read; the connection goes back to
    the pool (a cut-short body raises the urllib3 error the caller turns into a retry)."""
    try:
        return bytes(reply.data or b"")
    finally:
        reply.release_conn()


def _path(url: str) -> str:
    return urllib3.util.parse_url(url).path or "/"
