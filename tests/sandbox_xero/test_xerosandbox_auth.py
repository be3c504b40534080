"""OAuth: token endpoint, 401 on expiry, rotation with a 30-minute grace period."""

from __future__ import annotations

import base64

import pytest
import requests
from xero_python.exceptions import HTTPStatusException

from connectors.xero.sandbox import XeroSandbox


def _refresh(sandbox: XeroSandbox, refresh_token: str, *, basic: bool = False) -> requests.Response:
    cfg = sandbox.org_config()
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    headers = {}
    if basic:
        pair = f"{cfg['client_id']}:{cfg['client_secret']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        form.update(client_id=cfg["client_id"], client_secret=cfg["client_secret"])
    return requests.post(cfg["token_url"], data=form, headers=headers, timeout=10)


def test_org_config_is_complete_and_fake_looking(sandbox) -> None:  # type: ignore[no-untyped-def]
    cfg = sandbox.org_config()
    assert set(cfg) == {
        "client_id",
        "client_secret",
        "refresh_token",
        "tenant_id",
        "base_url",
        "token_url",
        "timezone",  # the organisation's zone, for the [[orgs]] block `--print-config` writes
    }
    for key in ("client_id", "client_secret", "refresh_token"):
        assert cfg[key].startswith("sandbox-")
    assert cfg["base_url"] == sandbox.api_url and cfg["timezone"] == "Pacific/Auckland"


def test_refresh_rotates_and_old_token_has_a_grace_period(sandbox, control) -> None:  # type: ignore[no-untyped-def]
    first = sandbox.org_config()["refresh_token"]
    issued = _refresh(sandbox, first)
    assert issued.status_code == 200
    body = issued.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer"
    assert body["refresh_token"] != first
    control.advance(29 * 60)
    assert _refresh(sandbox, first, basic=True).status_code == 200, "inside the grace period"
    control.advance(2 * 60)
    late = _refresh(sandbox, first)
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant"}
    assert _refresh(sandbox, body["refresh_token"]).status_code == 200


def test_wrong_client_secret_is_refused(sandbox) -> None:  # type: ignore[no-untyped-def]
    cfg = sandbox.org_config()
    resp = requests.post(
        cfg["token_url"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": cfg["refresh_token"],
            "client_id": cfg["client_id"],
            "client_secret": "sandbox-wrong",
        },
        timeout=10,
    )
    assert resp.status_code == 400 and resp.json() == {"error": "invalid_client"}


def test_authorization_code_grant(sandbox, control) -> None:  # type: ignore[no-untyped-def]
    cfg = sandbox.org_config()
    code = control.authorization_code()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost/cb"}
    form.update(client_id=cfg["client_id"], client_secret=cfg["client_secret"])
    ok = requests.post(cfg["token_url"], data=form, timeout=10)
    assert ok.status_code == 200 and ok.json()["refresh_token"].startswith("sandbox-rt-")
    again = requests.post(cfg["token_url"], data=form, timeout=10)
    assert again.json() == {"error": "invalid_grant"}


def test_expired_access_token_is_401_then_sdk_refresh_recovers(session) -> None:  # type: ignore[no-untyped-def]
    old_refresh = session.token["refresh_token"]
    session.control.advance(31 * 60)
    with pytest.raises(HTTPStatusException) as info:
        session.api.get_invoices(session.tenant_id, page=1)
    assert info.value.status == 401
    body = info.value.body.decode()
    assert '"Title":"Unauthorized"' in body and "TokenExpired" in body
    session.api_client.refresh_oauth2_token()
    assert session.token["refresh_token"] != old_refresh
    assert session.api.get_invoices(session.tenant_id, page=1).invoices


def test_expire_control_and_unknown_token(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    session.control.expire_access_tokens()
    with pytest.raises(HTTPStatusException) as info:
        session.api.get_contacts(session.tenant_id)
    assert info.value.status == 401
    resp = raw_get(session, "/Invoices", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.json()["Detail"] == "AuthenticationUnsuccessful"
    assert resp.json()["Type"] is None


def test_tenant_header_required(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    missing = raw_get(session, "/Invoices", headers={"xero-tenant-id": ""})
    assert missing.status_code == 403
    assert missing.json()["Title"] == "Forbidden"
    other = raw_get(
        session, "/Invoices", headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000001"}
    )
    assert other.status_code == 403


def test_connections_lists_the_tenant(session) -> None:  # type: ignore[no-untyped-def]
    connections = session.identity.get_connections()
    assert [c.tenant_id for c in connections] == [session.tenant_id]
    assert connections[0].tenant_type == "ORGANISATION"


def test_refuses_non_loopback_bind() -> None:
    with pytest.raises(ValueError, match="loopback"):
        XeroSandbox(host="0.0.0.0", invoices=1)
