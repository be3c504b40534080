"""A Xero sandbox, a config pointing at it, and a store: the Xero connector's test bench.

The connector's sleeps never really sleep: :class:`Pace` records them and moves both the
connector's monotonic clock and the sandbox's clock forward by the same amount, so the
sandbox's own rate limits (60 a minute by default) see a client that waited as asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from connectors.xero import wire
from connectors.xero.client import XeroConnector
from connectors.xero.sandbox import XeroSandbox, XeroSandboxClient
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.config.loader import LoadedConfig
from syncd.connections import connect, org_id_for
from syncd.store import Store, open_store
from syncd.sync import Syncer

SANDBOX_NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
_EXACT = msgspec.json.Encoder(decimal_format="number")


def rows_of(collection: str, *records: Mapping[str, Any]) -> list[wire.Row]:
    """Records held as dicts, as the connector reads them from a list body of ``collection``."""
    return wire.decode(_EXACT.encode({collection: list(records)}), collection).rows


ORG = "xero"


def write_config(
    path: Path, store_url: str, orgs: dict[str, dict[str, str]], **options: Any
) -> Path:
    options = {"late_fee_account_code": "200", **options}
    opts = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in options.items())
    blocks = []
    for name, org in orgs.items():
        blocks.append(
            f"""
[[orgs]]
name = "{name}"
connector = "xero"
policy = "standard"
review = "off"
go_live = 2024-01-01
base_url = "{org["base_url"]}"
token_url = "{org["token_url"]}"

[orgs.credentials]
client_id = "{org["client_id"]}"
client_secret = "{org["client_secret"]}"
refresh_token = "{org["refresh_token"]}"
tenant_id = "{org["tenant_id"]}"

[orgs.options]
{opts}"""
        )
    path.write_text(f'[store]\nurl = "{store_url}"\n' + "".join(blocks), encoding="utf-8")
    return path


class TrackingClock(FixedClock):
    """syncd's clock follows the sandbox's, so token expiry and cursor age agree."""

    def __init__(self, control: XeroSandboxClient) -> None:
        super().__init__(SANDBOX_NOW)
        self.control = control

    def now(self) -> datetime:
        return self.control.now().astimezone(UTC)


@dataclass
class Pace:
    """Fake time for the connector's sleeps, kept in step with the sandbox clock."""

    control: XeroSandboxClient
    t: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            # The provider's clock first: a thread that reads the new time must find the
            # provider already there (the other order let a call through that the sandbox,
            # not yet advanced, still counted in the old minute: a 429 on a loaded machine).
            self.control.advance(seconds)
            self.t += seconds


@dataclass
class Bench:
    sandbox: XeroSandbox
    control: XeroSandboxClient
    config: LoadedConfig
    store: Store
    clock: FixedClock
    pace: Pace
    org: str = ORG

    def connector(self, org: str | None = None) -> XeroConnector:
        connector = connect(self.store, self.config, org or self.org, self.clock)
        assert isinstance(connector, XeroConnector)
        connector.sleep = self.pace.sleep
        connector.governor.sleep = self.pace.sleep
        connector.governor.monotonic = self.pace.monotonic
        return connector

    def syncer(self, connector: XeroConnector | None = None) -> Syncer:
        org_id = org_id_for(self.store, self.config, self.org, self.clock)
        return Syncer(self.store, org_id, self.org, connector or self.connector(), self.clock)

    def truth(self) -> dict[str, Any]:
        return self.control.truth()

    def api_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.control.requests() if r["path"].startswith("/api.xro")]


def make_bench(
    tmp_path: Path,
    store_url: str,
    *,
    invoices: int = 60,
    seed: int = 7,
    minute_limit: int = 60,
    region: str = "NZ",
    sandbox_options: dict[str, Any] | None = None,
    **options: Any,
) -> Iterator[Bench]:
    with XeroSandbox(
        seed=seed,
        invoices=invoices,
        now=SANDBOX_NOW,
        minute_limit=minute_limit,
        region=region,
        **(sandbox_options or {}),
    ) as sandbox:
        path = write_config(
            tmp_path / "syncd.toml", store_url, {ORG: sandbox.org_config()}, **options
        )
        config = load_config(path)
        store = open_store(config.store_url)
        control = XeroSandboxClient(sandbox.base_url)
        try:
            yield Bench(sandbox, control, config, store, TrackingClock(control), Pace(control))
        finally:
            store.close()


@pytest.fixture
def bench(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    yield from make_bench(tmp_path, store_url, page_size=25)
