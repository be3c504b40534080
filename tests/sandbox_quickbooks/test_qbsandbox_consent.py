"""Intuit's authorize endpoint, code exchange errors and revocation."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from connectors.quickbooks.sandbox import QuickBooksSandbox

REDIRECT = "http://127.0.0.1:8976/callback"


def _authorize(
    sandbox: QuickBooksSandbox, decision: str = "allow", **over: str
) -> requests.Response:
    cfg = sandbox.org_config()
    doc = requests.get(sandbox.discovery_url, timeout=10).json()
    params = {
        "client_id": cfg["client_id"],
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "s1",
        **over,
    }
    page = requests.get(
        f"{doc['authorization_endpoint']}?{urlencode(params)}", allow_redirects=False, timeout=10
    )
    if page.status_code != 200:
        return page
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    return requests.post(
        doc["authorization_endpoint"],
        data={"ticket": ticket.group(1), "decision": decision},
        allow_redirects=False,
        timeout=10,
    )


def _query(reply: requests.Response) -> dict[str, str]:
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(reply.headers["Location"]).query).items()}


def _exchange(sandbox: QuickBooksSandbox, code: str, redirect: str = REDIRECT) -> requests.Response:
    cfg = sandbox.org_config()
    return requests.post(
        cfg["token_url"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        auth=(cfg["client_id"], cfg["client_secret"]),
        headers={"Accept": "application/json"},
        timeout=10,
    )


def test_consent_deny_switch_and_error_pages(sandbox: QuickBooksSandbox) -> None:
    params = _query(_authorize(sandbox))
    assert params["state"] == "s1" and params["realmId"] == sandbox.realm_id and params["code"]
    assert _query(_authorize(sandbox, "deny")) == {"error": "access_denied", "state": "s1"}
    sandbox.control.deny_consent(True)
    assert _query(_authorize(sandbox))["error"] == "access_denied"
    sandbox.control.deny_consent(False)
    assert _query(_authorize(sandbox, scope="openid"))["error"] == "invalid_scope"
    for over in ({"client_id": "someone"}, {"redirect_uri": "https://evil.example/cb"}):
        page = _authorize(sandbox, **over)
        assert page.status_code == 400 and "text/html" in page.headers["Content-Type"]


def test_codes_are_single_use_bound_to_redirect_uri_and_short_lived(
    sandbox: QuickBooksSandbox,
) -> None:
    wrong = _exchange(sandbox, _query(_authorize(sandbox))["code"], REDIRECT + "x")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = _query(_authorize(sandbox))["code"]
    assert _exchange(sandbox, code).status_code == 200
    assert _exchange(sandbox, code).json()["error"] == "invalid_grant"
    late = _query(_authorize(sandbox))["code"]
    sandbox.control.advance_clock(seconds=6 * 60)
    assert _exchange(sandbox, late).json()["error"] == "invalid_grant"


def test_revoking_the_refresh_token_ends_the_grant(sandbox: QuickBooksSandbox) -> None:
    cfg = sandbox.org_config()
    body = _exchange(sandbox, _query(_authorize(sandbox))["code"]).json()
    revoke = requests.get(sandbox.discovery_url, timeout=10).json()["revocation_endpoint"]
    client = (cfg["client_id"], cfg["client_secret"])
    assert (
        requests.post(revoke, json={"token": body["refresh_token"]}, timeout=10).status_code == 401
    )
    ok = requests.post(revoke, json={"token": body["refresh_token"]}, auth=client, timeout=10)
    assert ok.status_code == 200
    refresh = requests.post(
        cfg["token_url"],
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=client,
        timeout=10,
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    api = requests.get(
        f"{cfg['base_url']}/company/{sandbox.realm_id}/companyinfo/{sandbox.realm_id}",
        params={"minorversion": "75"},
        headers={"Authorization": f"Bearer {body['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert api.status_code == 401
