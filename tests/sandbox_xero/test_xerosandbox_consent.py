"""The authorize endpoint, code exchange errors, PKCE, /connections and revocation."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient

REDIRECT = "http://127.0.0.1:8976/callback"
SCOPE = "offline_access accounting.transactions accounting.contacts accounting.settings"
VERIFIER = "v" * 43


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()[:-1]


def _authorize(sandbox: XeroSandbox, decision: str = "allow", **over: str) -> requests.Response:
    params = {
        "response_type": "code",
        "client_id": sandbox.client_id,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "s1",
        "code_challenge": _challenge(VERIFIER),
        "code_challenge_method": "S256",
        **over,
    }
    url = f"{sandbox.base_url}/identity/connect/authorize?{urlencode(params)}"
    page = requests.get(url, allow_redirects=False, timeout=10)
    if page.status_code != 200:
        return page
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    return requests.post(
        f"{sandbox.base_url}/identity/connect/authorize",
        data={"ticket": ticket.group(1), "decision": decision},
        allow_redirects=False,
        timeout=10,
    )


def _query(reply: requests.Response) -> dict[str, str]:
    assert reply.status_code == 302
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _exchange(sandbox: XeroSandbox, code: str, **over: Any) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        **over,
    }
    form = {k: v for k, v in form.items() if v is not None}
    return requests.post(
        sandbox.token_url,
        data=form,
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=10,
    )


def test_consent_redirects_with_code_scope_and_state(sandbox: XeroSandbox) -> None:
    params = _query(_authorize(sandbox))
    assert params["state"] == "s1" and params["scope"] == SCOPE
    token = _exchange(sandbox, params["code"])
    assert token.status_code == 200
    assert {"access_token", "refresh_token", "id_token", "expires_in"} <= set(token.json())
    reused = _exchange(sandbox, params["code"])
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant"}


def test_cancel_and_the_deny_switch_redirect_with_access_denied(sandbox: XeroSandbox) -> None:
    assert _query(_authorize(sandbox, "deny")) == {"error": "access_denied", "state": "s1"}
    XeroSandboxClient(sandbox.base_url).deny_consent(True)
    assert _query(_authorize(sandbox, "allow"))["error"] == "access_denied"
    XeroSandboxClient(sandbox.base_url).deny_consent(False)
    assert "code" in _query(_authorize(sandbox, "allow"))


def test_requests_it_cannot_redirect_for_get_an_error_page(sandbox: XeroSandbox) -> None:
    for over in ({"client_id": "someone"}, {"redirect_uri": "https://evil.example/cb"}):
        page = _authorize(sandbox, **over)
        assert page.status_code == 400 and "text/html" in page.headers["Content-Type"]
    assert _query(_authorize(sandbox, scope="openid"))["error"] == "invalid_scope"
    assert _query(_authorize(sandbox, code_challenge_method="plain"))["error"] == "invalid_request"


def test_code_exchange_checks_redirect_uri_verifier_and_age(
    sandbox: XeroSandbox, control: XeroSandboxClient
) -> None:
    wrong_uri = _exchange(sandbox, _query(_authorize(sandbox))["code"], redirect_uri=REDIRECT + "x")
    assert wrong_uri.status_code == 400 and wrong_uri.json() == {"error": "invalid_grant"}
    wrong_verifier = _exchange(sandbox, _query(_authorize(sandbox))["code"], code_verifier="w" * 43)
    assert wrong_verifier.json() == {"error": "invalid_grant"}
    missing = _exchange(sandbox, _query(_authorize(sandbox))["code"], code_verifier=None)
    assert missing.json() == {"error": "invalid_grant"}
    code = _query(_authorize(sandbox))["code"]
    control.advance(6 * 60)
    assert _exchange(sandbox, code).json() == {"error": "invalid_grant"}


def test_connections_delete_and_revocation(sandbox: XeroSandbox) -> None:
    body = _exchange(sandbox, _query(_authorize(sandbox))["code"]).json()
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    listed = requests.get(f"{sandbox.base_url}/connections", headers=bearer, timeout=10).json()
    assert [c["tenantId"] for c in listed] == [sandbox.tenant_id]
    url = f"{sandbox.base_url}/connections/{listed[0]['id']}"
    assert requests.delete(url, headers=bearer, timeout=10).status_code == 204
    assert requests.delete(url, headers=bearer, timeout=10).status_code == 404
    assert requests.get(f"{sandbox.base_url}/connections", headers=bearer, timeout=10).json() == []
    invoices = requests.get(
        f"{sandbox.api_url}/Invoices",
        headers={**bearer, "xero-tenant-id": sandbox.tenant_id},
        timeout=10,
    )
    assert invoices.status_code == 403
    revoke_url = f"{sandbox.base_url}/connect/revocation"
    bad = requests.post(revoke_url, data={"token": body["refresh_token"]}, timeout=10)
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}
    client = (sandbox.client_id, sandbox.client_secret)
    ok = requests.post(revoke_url, data={"token": body["refresh_token"]}, auth=client, timeout=10)
    assert ok.status_code == 200
    refresh = requests.post(
        sandbox.token_url,
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=client,
        timeout=10,
    )
    assert refresh.json() == {"error": "invalid_grant"}
