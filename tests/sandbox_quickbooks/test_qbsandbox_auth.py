"""OAuth through intuit-oauth, 401/403 bodies, throttling, minorversion, loopback-only binding."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException, ValidationException
from quickbooks.objects.invoice import Invoice

from connectors.quickbooks.sandbox import QuickBooksSandbox

from .conftest import NOW, make_auth_client, make_client


def test_discovery_document_points_at_sandbox(sandbox: QuickBooksSandbox) -> None:
    auth = make_auth_client(sandbox)
    assert auth.token_endpoint == sandbox.token_url
    assert auth.revoke_endpoint.startswith(sandbox.base_url)
    cfg = sandbox.org_config()
    assert set(cfg) == {
        "client_id",
        "client_secret",
        "refresh_token",
        "realm_id",
        "base_url",
        "token_url",
        "discovery_url",
        # What a late fee needs in this (US) company; a UK one adds late_fee_tax_code_id.
        "options.late_fee_item_id",
        "options.home_currency",
        # The company's zone, for the [[orgs]] block `--print-config` writes.
        "timezone",
    }
    assert cfg["base_url"] == sandbox.api_url and cfg["timezone"] == "America/Los_Angeles"
    assert all(
        cfg[k].startswith("sandbox-") for k in ("client_id", "client_secret", "refresh_token")
    )


def test_refresh_rotates_and_old_token_is_rejected(sandbox: QuickBooksSandbox) -> None:
    original = sandbox.org_config()["refresh_token"]
    auth = make_auth_client(sandbox)
    auth.refresh(refresh_token=original)
    assert auth.access_token and auth.refresh_token and auth.refresh_token != original
    assert auth.expires_in == 3600
    assert auth.x_refresh_token_expires_in > 0
    assert sandbox.org_config()["refresh_token"] == auth.refresh_token
    stale = make_auth_client(sandbox)
    with pytest.raises(AuthClientError) as info:
        stale.refresh(refresh_token=original)
    assert info.value.status_code == 400
    assert json.loads(info.value.content) == {"error": "invalid_grant"}
    wrong = make_auth_client(sandbox)
    wrong.client_secret = "nope"
    with pytest.raises(AuthClientError) as info:
        wrong.refresh(refresh_token=auth.refresh_token)
    assert info.value.status_code == 401


def test_expired_token_is_401_then_refresh_recovers(
    qb: QuickBooks, sandbox: QuickBooksSandbox, insecure_transport: None
) -> None:
    assert Invoice.count(qb=qb) > 0
    sandbox.control.advance_clock(seconds=3601)
    with pytest.raises(AuthorizationException) as info:
        Invoice.count(qb=qb)
    assert info.value.error_code == 401
    body = json.loads(info.value.detail)
    assert body["fault"]["error"][0]["code"] == "3200"
    assert body["fault"]["type"] == "AUTHENTICATION"
    # The client side persists the rotated refresh token and builds a new session.
    fresh = make_client(sandbox, refresh_token=qb.auth_client.refresh_token)
    assert Invoice.count(qb=fresh) > 0
    sandbox.control.expire_access_tokens()
    with pytest.raises(AuthorizationException):
        Invoice.count(qb=fresh)


def test_wrong_realm_is_403(qb: QuickBooks, sandbox: QuickBooksSandbox) -> None:
    qb.company_id = "1234567890"
    with pytest.raises(QuickbooksException) as info:
        Invoice.count(qb=qb)
    assert info.value.error_code == 3100


def test_authorization_code_flow(sandbox: QuickBooksSandbox) -> None:
    auth = make_auth_client(sandbox)
    url = auth.get_authorization_url([Scopes.ACCOUNTING])
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    redirect = requests.post(
        page.url,
        data={"ticket": ticket.group(1), "decision": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert redirect.status_code == 302
    params = parse_qs(urlsplit(redirect.headers["Location"]).query)
    assert params["realmId"] == [sandbox.realm_id]
    auth.get_bearer_token(params["code"][0], realm_id=params["realmId"][0])
    assert auth.access_token.startswith("sandbox-at-")
    with pytest.raises(AuthClientError):
        make_auth_client(sandbox).get_bearer_token(params["code"][0])  # codes are single-use


def test_rate_limit_429(insecure_transport: None) -> None:
    with QuickBooksSandbox(seed=2, invoices=20, now=NOW, rate_limit_per_minute=5) as sb:
        qb = make_client(sb)
        for _ in range(5):
            Invoice.count(qb=qb)
        with pytest.raises(ValidationException) as info:  # JSON 3001 lands in 2000-4999
            Invoice.count(qb=qb)
        assert info.value.error_code == 3001
        assert "ThrottleExceeded" in info.value.message
        throttled = [r for r in sb.control.requests() if r["status"] == 429]
        assert len(throttled) == 1
        sb.control.advance_clock(seconds=61)
        assert Invoice.count(qb=qb) > 0


def test_minorversion_is_required(sandbox: QuickBooksSandbox) -> None:
    token = sandbox.control.mint_access_token()
    url = f"{sandbox.api_url}/company/{sandbox.realm_id}/invoice/1"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    missing = requests.get(url, headers=headers, timeout=10)
    assert missing.status_code == 400
    assert missing.json()["Fault"]["type"] == "ValidationFault"
    ok = requests.get(url, params={"minorversion": "75"}, headers=headers, timeout=10)
    assert ok.status_code == 200 and ok.json()["Invoice"]["Id"] == "1"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_refuses_non_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        QuickBooksSandbox(host=host, invoices=0)
