"""Xero-only pushback: day limits, refresh ahead of expiry, plain HTTP, two tenants in one
process. The error taxonomy shared by every connector is in tests/contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from xero_python.api_client import Configuration
from xero_python.api_client.oauth2 import OAuth2Token

from connectors.base import (
    ConnectorError,
    EntityKind,
    OrgConnection,
    TokenState,
    TransientError,
)
from connectors.xero.client import XeroConnector
from connectors.xero.limits import DayLimitReached
from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient
from connectors.xero.settings import XeroCredentials, XeroOptions
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.store import open_store
from tests.support.xero_truth import mismatches

from .conftest import SANDBOX_NOW, Bench, Pace, TrackingClock, write_config


def some_invoice(bench: Bench) -> str:
    return str(bench.truth()["invoices"][0]["invoice_id"])


def test_access_token_is_refreshed_ahead_of_expiry(bench: Bench) -> None:
    connector = bench.connector()
    invoice_id = some_invoice(bench)
    connector.fetch_invoice(invoice_id)
    bench.control.advance(26 * 60)  # 4 minutes left: inside the 5-minute margin
    connector.fetch_invoice(invoice_id)
    assert connector.tokens.refreshes == 2
    assert all(r["status"] == 200 for r in bench.api_requests())


def test_day_limit_429_stops_the_org_without_sleeping(bench: Bench) -> None:
    bench.control.add_fault("429", count=1, problem="day", retry_after=20_000)
    connector = bench.connector()
    invoice_id = some_invoice(bench)
    with pytest.raises(DayLimitReached) as caught:
        connector.fetch_invoice(invoice_id)
    assert isinstance(caught.value, TransientError)
    assert caught.value.retry_after == 20_000
    assert "daily call limit" in str(caught.value)
    assert bench.pace.sleeps == []
    # Until then the org stays stopped, without spending calls on more refusals.
    with pytest.raises(DayLimitReached):
        connector.fetch_invoice(invoice_id)
    assert len(bench.api_requests()) == 1


def test_spent_day_allowance_is_not_spent_further(bench: Bench) -> None:
    bench.control.limits(day=2)
    connector = bench.connector()
    invoice_id = some_invoice(bench)
    connector.fetch_invoice(invoice_id)
    connector.fetch_invoice(invoice_id)  # X-DayLimit-Remaining: 0
    with pytest.raises(DayLimitReached):
        connector.fetch_invoice(invoice_id)
    assert [r["status"] for r in bench.api_requests()] == [200, 200]
    assert bench.pace.sleeps == []


class MemoryTokens:
    def __init__(self) -> None:
        self.state = TokenState()

    def load(self) -> TokenState:
        return self.state

    def save(self, state: TokenState) -> None:
        self.state = state


def test_plain_http_is_refused_for_anything_but_loopback() -> None:
    creds = XeroCredentials(
        client_id="c",
        client_secret="s",  # type: ignore[arg-type]
        refresh_token="r",  # type: ignore[arg-type]
        tenant_id="t",
    )
    for base, token in (
        ("http://api.example.com/api.xro/2.0", "https://identity.example.com/t"),
        ("https://api.example.com/api.xro/2.0", "http://identity.example.com/t"),
    ):
        connection = OrgConnection("o", creds, XeroOptions(), base, token, MemoryTokens())
        with pytest.raises(ConnectorError, match="plain HTTP"):
            XeroConnector(connection)


def test_two_orgs_in_one_process_keep_separate_tokens(tmp_path: Path, store_url: str) -> None:
    # Whoever builds the first Configuration in a process decides what Configuration() copies.
    Configuration(oauth2_token=OAuth2Token(client_id="someone-else"))
    with (
        XeroSandbox(seed=3, invoices=30, now=SANDBOX_NOW) as one,
        XeroSandbox(seed=4, invoices=30, now=SANDBOX_NOW) as two,
    ):
        path = write_config(
            tmp_path / "syncd.toml",
            store_url,
            {"one": one.org_config(), "two": two.org_config()},
            page_size=10,
        )
        config = load_config(path)
        store = open_store(config.store_url)
        try:
            controls = {
                "one": XeroSandboxClient(one.base_url),
                "two": XeroSandboxClient(two.base_url),
            }
            benches: dict[str, Any] = {}
            for name, sandbox in (("one", one), ("two", two)):
                benches[name] = Bench(
                    sandbox,
                    controls[name],
                    config,
                    store,
                    TrackingClock(controls[name]),
                    Pace(controls[name]),
                    org=name,
                )
            connectors = {name: b.connector() for name, b in benches.items()}
            assert connectors["one"].configuration.oauth2_token is not (
                connectors["two"].configuration.oauth2_token
            )
            # Interleave the two orgs' calls through one process.
            syncers = {name: benches[name].syncer(connectors[name]) for name in benches}
            pages = {n: iter(connectors[n].backfill(EntityKind.INVOICES, None)) for n in benches}
            next(pages["one"])
            next(pages["two"])
            next(pages["one"])
            for name in ("one", "two"):
                syncers[name].backfill()
            for name, b in benches.items():
                calls = b.api_requests()
                assert calls and all(r["status"] == 200 for r in calls)
                assert {r["tenant_id"] for r in calls} == {b.sandbox.tenant_id}
                org_id = org_id_for(store, config, name, b.clock)
                with store.sessions() as s:
                    assert mismatches(s, b.truth(), org_id) == []
            tokens = {n: c.tokens._store.load().access_token for n, c in connectors.items()}  # type: ignore[attr-defined]
            assert tokens["one"] != tokens["two"]
        finally:
            store.close()
