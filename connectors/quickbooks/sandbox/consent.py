"""Intuit's consent screen, as far as a native app's authorization-code flow can observe it.

``GET /connect/oauth2`` shows the page; submitting it redirects the browser back to
``redirect_uri`` with ``code``, ``state`` and ``realmId``, or with ``error=access_denied`` when
the user cancels (or the control switch ``POST /_sandbox/consent {"deny": true}`` says so).
Requests Intuit cannot redirect back for (an unknown client, a redirect URI that is not
registered) get an error page and no redirect, as at Intuit. Only loopback redirect URIs count
as registered: a sandbox never hands a code to anything off this machine.
"""

from __future__ import annotations

import html
import ipaddress
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from .wire import Response

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


@dataclass(frozen=True)
class Request:
    """One authorization request the user has not answered yet."""

    redirect_uri: str
    state: str
    scope: str


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


def redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in redirect_uri else "?"
    location = redirect_uri + sep + urlencode(params)
    return Response(302, b"", content_type="text/plain", headers=(("Location", location),))


def error_page(status: int, message: str) -> Response:
    body = (
        "<!doctype html><title>Error</title><h1>Something went wrong</h1>"
        f"<p>{html.escape(message)}</p>"
    )
    return Response(status, body.encode(), content_type="text/html; charset=utf-8")


class ConsentDesk:
    """Pending requests keyed by a single-use ticket carried in the consent form."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, Request] = {}
        #: Control switch: every consent is refused, as if the user pressed "Cancel".
        self.deny = False

    def page(self, query: dict[str, str], client_id: str, company_name: str) -> Response:
        if query.get("client_id") != client_id:
            return error_page(400, "The client_id is not valid.")
        redirect_uri = query.get("redirect_uri", "")
        if not _is_loopback(redirect_uri):
            return error_page(400, "The redirect_uri is not registered for this app.")
        state = query.get("state", "")
        if query.get("response_type") != "code":
            return redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scope = query.get("scope", "")
        if ACCOUNTING_SCOPE not in scope.split():
            return redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[ticket] = Request(redirect_uri, state, scope)
        body = (
            "<!doctype html><html><head><title>Connect to QuickBooks</title></head><body>"
            f"<h1>Connect {html.escape(company_name)}?</h1>"
            "<p>The app asks to read and write your QuickBooks accounting data.</p>"
            '<form method="post" action="/connect/oauth2">'
            f'<input type="hidden" name="ticket" value="{ticket}">'
            '<button name="decision" value="allow">Connect</button> '
            '<button name="decision" value="deny">Cancel</button>'
            "</form></body></html>"
        )
        return Response(
            200,
            body.encode(),
            content_type="text/html; charset=utf-8",
            headers=(("Cache-Control", "no-store"),),
        )

    def answer(self, form: dict[str, str]) -> tuple[Request | None, bool]:
        """The request the form answers (``None``: unknown or reused ticket), and consent."""
        with self._lock:
            request = self._pending.pop(form.get("ticket", ""), None)
        return request, form.get("decision") == "allow" and not self.deny
