"""Fixtures: a seeded sandbox served on loopback and the real python-quickbooks SDK aimed at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks

from connectors.quickbooks.sandbox import QuickBooksSandbox

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "quickbooks"
NOW = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
MINOR_VERSION = 75


def make_auth_client(sandbox: QuickBooksSandbox) -> AuthClient:
    cfg = sandbox.org_config()
    # environment=<discovery URL>: intuit-oauth downloads the sandbox's discovery document.
    return AuthClient(
        client_id=cfg["client_id"],
        client_secret=cfg["client_secret"],
        redirect_uri="http://127.0.0.1/callback",
        environment=sandbox.discovery_url,
    )


def make_client(
    sandbox: QuickBooksSandbox, *, refresh_token: str | None = None, use_decimal: bool = True
) -> QuickBooks:
    cfg = sandbox.org_config()
    qb = QuickBooks(
        auth_client=make_auth_client(sandbox),
        refresh_token=refresh_token or cfg["refresh_token"],
        company_id=cfg["realm_id"],
        minorversion=MINOR_VERSION,
        use_decimal=use_decimal,
    )
    # The SDK picks api_url_v3 (environment is not "sandbox"); set it on the instance only.
    qb.api_url_v3 = sandbox.api_url
    qb.sandbox_api_url_v3 = sandbox.api_url
    return qb


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests-oauthlib refuses http:// unless told; scoped to one test, never global."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def sandbox() -> Iterator[QuickBooksSandbox]:
    with QuickBooksSandbox(seed=7, invoices=160, now=NOW) as sb:
        yield sb


@pytest.fixture
def qb(sandbox: QuickBooksSandbox, insecure_transport: None) -> QuickBooks:
    return make_client(sandbox)


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"QBO reference samples not available at {REFERENCE}")
    return REFERENCE
