"""The provider-independent half of the authorization-code flow for a native app (RFC 8252).

The redirect comes back to a one-shot HTTP listener on 127.0.0.1 (or, where the provider
accepts only an https redirect URI, the user pastes the address the browser ended on);
``state`` (random, checked
on return) ties the redirect to this run, and PKCE (RFC 7636, S256) ties the code to this
process where the provider supports it, so a code intercepted on its way back is useless.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

from connectors.base import OAuthEndpoints, is_loopback

CALLBACK_PATH = "/callback"


class ConnectFlowError(Exception):
    """The flow cannot go on; the message is for the user and holds no secret. ``exit_code``
    2 means the command was given something wrong (unknown org, busy port)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    redirect_uri: str
    code_verifier: str | None


def pkce_pair() -> tuple[str, str]:
    """``(verifier, S256 challenge)``: 43 characters of URL-safe randomness, hashed."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorization_request(
    endpoints: OAuthEndpoints, client_id: str, redirect_uri: str
) -> AuthorizationRequest:
    state = secrets.token_urlsafe(24)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": endpoints.scope,
        "state": state,
    }
    verifier: str | None = None
    if endpoints.pkce:
        verifier, challenge = pkce_pair()
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    sep = "&" if "?" in endpoints.authorize_url else "?"
    url = endpoints.authorize_url + sep + urlencode(params)
    return AuthorizationRequest(url, state, redirect_uri, verifier)


def require_one_side(endpoints: OAuthEndpoints) -> None:
    """All endpoints at the real provider (HTTPS) or all at one local sandbox: a sandbox's
    authorization code or client secret must never travel to a real provider, nor the other
    way round."""
    urls = [
        endpoints.authorize_url,
        endpoints.token_url,
        endpoints.revocation_url,
        *([endpoints.connections_url] if endpoints.connections_url else []),
    ]
    local = [is_loopback(u) for u in urls]
    if any(local) and not all(local):
        raise ConnectFlowError(
            "base_url and token_url must both point at the local sandbox or both at the "
            "provider; refusing to mix them",
            2,
        )
    origins = {urlsplit(u).netloc for u in urls}
    if all(local) and len(origins) != 1:
        raise ConnectFlowError("the sandbox's endpoints are on more than one host; refusing", 2)
    if not any(local) and any(urlsplit(u).scheme != "https" for u in urls):
        raise ConnectFlowError("the provider's endpoints must use https", 2)


_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>syncd</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._reply(404, "Not found", "This is syncd's sign-in listener.")
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not secrets.compare_digest(params.get("state", ""), self.server.expected_state):
            self.server.result = {"__state_mismatch__": "1"}
            self._reply(400, "Sign-in rejected", "The answer did not match this sign-in.")
            return
        self.server.result = params
        if "error" in params:
            self._reply(200, "Not connected", "The connection was refused. Close this window.")
        else:
            self._reply(200, "Connected", "You can close this window and return to syncd.")

    def _reply(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line carries the authorization code."""


class _CallbackServer(HTTPServer):
    def __init__(self, port: int) -> None:
        self.expected_state = ""
        self.result: dict[str, str] | None = None
        super().__init__(("127.0.0.1", port), _Handler)


class LoopbackListener:
    """Bound before the URL is shown, so the redirect cannot arrive to a closed port."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._server: _CallbackServer | None = None

    def open(self) -> None:
        try:
            self._server = _CallbackServer(self._port)
        except OSError as exc:
            raise ConnectFlowError(
                f"cannot listen on 127.0.0.1:{self._port} ({exc.strerror or exc}); "
                "is another program using that port? Choose one with --port "
                "(and register its redirect URI with the provider)",
                2,
            ) from None

    @property
    def redirect_uri(self) -> str:
        """``localhost`` although RFC 8252 prefers the IP literal: Intuit refuses IP addresses
        in redirect URIs, and Xero's examples register ``localhost``."""
        port = self._server.server_address[1] if self._server else self._port
        return f"http://localhost:{port}{CALLBACK_PATH}"

    def wait(self, expected_state: str, timeout: float) -> dict[str, str]:
        """The callback's query parameters once one arrives; a redirect whose ``state`` is not
        this run's ends the flow (it was not answered by this sign-in)."""
        server = self._server
        if server is None:
            raise RuntimeError("listener not open")
        server.expected_state = expected_state
        deadline = time.monotonic() + timeout
        while server.result is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectFlowError(
                    f"no answer from the browser within {timeout:.0f} seconds; run the command "
                    "again"
                )
            server.timeout = min(left, 1.0)
            server.handle_request()
        if "__state_mismatch__" in server.result:
            raise ConnectFlowError(
                "the redirect's state does not match this sign-in (a stale or forged redirect); "
                "nothing was stored"
            )
        return server.result

    def close(self) -> None:
        if self._server is not None:
            self._server.server_close()
            self._server = None


class PastedRedirect:
    """For a redirect URI nothing here listens on (an https page registered with the app): the
    browser ends there and the user pastes the address it shows."""

    def __init__(self, redirect_uri: str, read_line: Callable[[], str]) -> None:
        self.redirect_uri = redirect_uri
        self._read_line = read_line

    def open(self) -> None:
        """Nothing to bind."""

    def wait(self, expected_state: str, timeout: float) -> dict[str, str]:
        print(
            "After approving, paste the full address your browser shows, then press Enter:",
            file=sys.stderr,
            flush=True,
        )
        pasted = self._read_line().strip()
        parts = urlsplit(pasted)
        target = urlsplit(self.redirect_uri)
        if (parts.netloc, parts.path) != (target.netloc, target.path):
            raise ConnectFlowError(f"that address is not {self.redirect_uri}; nothing was stored")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not secrets.compare_digest(params.get("state", ""), expected_state):
            raise ConnectFlowError(
                "the redirect's state does not match this sign-in (a stale or forged redirect); "
                "nothing was stored"
            )
        return params

    def close(self) -> None:
        """Nothing to release."""


class Callback(Protocol):
    @property
    def redirect_uri(self) -> str: ...

    def open(self) -> None: ...

    def wait(self, expected_state: str, timeout: float) -> dict[str, str]: ...

    def close(self) -> None: ...


def code_from(params: dict[str, str], provider: str) -> str:
    if "error" in params:
        error = params["error"]
        detail = params.get("error_description")
        reason = "you or the provider declined the connection" if error == "access_denied" else ""
        extra = "; ".join(x for x in (detail, reason) if x)
        raise ConnectFlowError(
            f"{provider} refused the connection: {error}"
            + (f" ({extra})" if extra else "")
            + "; nothing was stored"
        )
    code = params.get("code", "")
    if not code:
        raise ConnectFlowError(f"{provider} redirected back without a code; nothing was stored")
    return code
