"""Fixtures: a running sandbox and the real xero-python SDK pointed at it.

The SDK's token URL is a class attribute of ``TokenApi``; rather than patching
it globally, :class:`SandboxOAuth2Token` sets it on the one ``TokenApi``
instance each refresh creates.  The sandbox speaks plain HTTP on loopback, so
no TLS setting is touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from urllib3.util.retry import Retry
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
SCOPES = ["offline_access", "accounting.transactions", "accounting.contacts"]


class SandboxOAuth2Token(OAuth2Token):
    """OAuth2Token whose refresh goes to the sandbox's token endpoint."""

    def __init__(self, token_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token_url = token_url

    def call_refresh_token_api(self, token_api: TokenApi) -> dict[str, Any]:
        token_api.refresh_token_url = self.token_url  # instance attribute only
        return super().call_refresh_token_api(token_api)  # type: ignore[no-any-return]


@dataclass
class SdkSession:
    sandbox: XeroSandbox
    control: XeroSandboxClient
    api_client: ApiClient
    api: AccountingApi
    identity: IdentityApi
    tenant_id: str
    store: dict[str, Any] = field(default_factory=dict)

    @property
    def token(self) -> dict[str, Any]:
        return dict(self.store["token"])


def make_session(
    sandbox: XeroSandbox, *, refresh_token: str | None = None, urllib3_retry_after: bool = False
) -> SdkSession:
    cfg = sandbox.org_config()
    store: dict[str, Any] = {
        "token": {
            "access_token": None,
            "refresh_token": refresh_token or cfg["refresh_token"],
            "scope": SCOPES,
            "expires_in": None,
            "expires_at": None,
            "token_type": "Bearer",
        }
    }
    oauth = SandboxOAuth2Token(
        cfg["token_url"], client_id=cfg["client_id"], client_secret=cfg["client_secret"]
    )
    # Configuration's metaclass hands back a copy of the *first* instance ever
    # built and ignores later kwargs, so the token must be set on the copy.
    configuration = Configuration(oauth2_token=oauth)
    configuration.oauth2_token = oauth
    api_client = ApiClient(
        configuration,
        oauth2_token_getter=lambda: store["token"],
        oauth2_token_saver=lambda token: store.__setitem__("token", token),
    )
    if not urllib3_retry_after:
        # xero-python leaves urllib3's default Retry in place, which silently
        # sleeps Retry-After and resends on 429/503.  Tests want to see the 429.
        api_client.rest_client.pool_manager.connection_pool_kw["retries"] = Retry(
            total=3, respect_retry_after_header=False
        )
    api_client.refresh_oauth2_token()
    return SdkSession(
        sandbox=sandbox,
        control=XeroSandboxClient(sandbox.base_url),
        api_client=api_client,
        api=AccountingApi(api_client, base_url=cfg["base_url"]),
        identity=IdentityApi(api_client, base_url=sandbox.base_url),
        tenant_id=cfg["tenant_id"],
        store=store,
    )


@pytest.fixture
def sandbox() -> Iterator[XeroSandbox]:
    with XeroSandbox(seed=7, invoices=60, now=NOW, minute_limit=1000) as sb:
        yield sb


@pytest.fixture
def session(sandbox: XeroSandbox) -> SdkSession:
    return make_session(sandbox)


@pytest.fixture
def control(sandbox: XeroSandbox) -> XeroSandboxClient:
    return XeroSandboxClient(sandbox.base_url)


def _raw_get(
    session: SdkSession, path: str, *, headers: dict[str, str] | None = None, **params: str
) -> Any:
    """A plain HTTP call with the session's token, for what the SDK cannot express."""
    import requests

    merged = {
        "Authorization": f"Bearer {session.token['access_token']}",
        "xero-tenant-id": session.tenant_id,
        "Accept": "application/json",
    }
    merged.update(headers or {})
    return requests.get(
        f"{session.sandbox.api_url}{path}", headers=merged, params=params, timeout=10
    )


@pytest.fixture
def new_session() -> Any:
    """Factory: an SDK session against any sandbox (tests building their own)."""
    return make_session


@pytest.fixture
def raw_get() -> Any:
    """Factory: a plain HTTP GET with a session's token and tenant."""
    return _raw_get


@pytest.fixture
def start() -> datetime:
    """The sandbox clock start every fixture sandbox uses."""
    return NOW
