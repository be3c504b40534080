"""Xero's login and consent screen for the authorization-code flow (with PKCE).

``GET /identity/connect/authorize`` (``login.xero.com`` at Xero) shows the page; submitting it
redirects back to ``redirect_uri`` with ``code``, ``scope`` and ``state``, or with
``error=access_denied`` when the user cancels or the control switch
``POST /_sandbox/consent {"deny": true}`` says so. What Xero cannot redirect back for (unknown
client, unregistered redirect URI) is an error page. Only loopback redirect URIs count as
registered, so a sandbox never hands a code to anything off this machine. PKCE accepts
``S256`` only (Xero's documentation names no other method).
"""

from __future__ import annotations

import html
import ipaddress
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from .errors import Reply

AUTHORIZE_PATH = "/identity/connect/authorize"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str | None


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.fragment:
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect(redirect_uri: str, params: dict[str, str]) -> Reply:
    sep = "&" if "?" in redirect_uri else "?"
    return Reply(302, b"", None, {"Location": redirect_uri + sep + urlencode(params)})


def error_page(message: str) -> Reply:
    body = (
        "<!doctype html><title>Xero | Error</title><h1>Sorry, something went wrong</h1>"
        f"<p>{html.escape(message)}</p>"
    )
    return Reply(400, body.encode(), HTML)


class ConsentDesk:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Request] = {}
        #: Control switch: every consent is refused, as if the user pressed "Cancel".
        self.deny = False

    def page(self, query: dict[str, str], client_id: str, org_name: str) -> Reply:
        if query.get("client_id") != client_id:
            return error_page("unauthorized_client: Invalid client_id")
        redirect_uri = query.get("redirect_uri", "")
        if not _is_loopback(redirect_uri):
            return error_page("unauthorized_client: Invalid redirect_uri")
        state = query.get("state", "")
        if query.get("response_type") != "code":
            return redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scope = query.get("scope", "")
        if "offline_access" not in scope.split() or not any(
            s.startswith("accounting.") for s in scope.split()
        ):
            return redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        challenge = query.get("code_challenge")
        if challenge is not None and query.get("code_challenge_method") != "S256":
            return redirect(redirect_uri, {"error": "invalid_request", "state": state})
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[ticket] = Request(redirect_uri, state, scope, challenge)
        body = (
            "<!doctype html><html><head><title>Xero | Authorise</title></head><body>"
            f"<h1>Allow access to {html.escape(org_name)}?</h1>"
            f"<p>The app asks for: {html.escape(scope)}</p>"
            f'<form method="post" action="{AUTHORIZE_PATH}">'
            f'<input type="hidden" name="ticket" value="{ticket}">'
            '<button name="decision" value="allow">Allow access</button> '
            '<button name="decision" value="deny">Cancel</button>'
            "</form></body></html>"
        )
        return Reply(200, body.encode(), HTML, {"Cache-Control": "no-store"})

    def answer(self, form: dict[str, str]) -> tuple[Request | None, bool]:
        """The request the form answers (``None``: unknown or reused ticket), and consent."""
        with self._lock:
            request = self._pending.pop(form.get("ticket", ""), None)
        return request, form.get("decision") == "allow" and not self.deny
