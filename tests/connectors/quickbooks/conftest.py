"""A QuickBooks sandbox, a config pointing at it, and a store: the connector's test bench."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Connector
from connectors.quickbooks.sandbox import QuickBooksSandbox
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.config.loader import LoadedConfig
from syncd.connections import connect, org_id_for
from syncd.store import Store, open_store
from syncd.sync import Syncer

SANDBOX_NOW = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)


def write_config(
    path: Path, store_url: str, org: dict[str, str], *, email: str = "", **options: Any
) -> Path:
    options.setdefault("late_fee_item_id", "10")
    opts = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in options.items())
    path.write_text(
        f"""
[store]
url = "{store_url}"
{email}

[[orgs]]
name = "qbo"
connector = "quickbooks"
policy = "standard"
timezone = "America/Los_Angeles"
base_url = "{org["base_url"]}"
token_url = "{org["token_url"]}"

[orgs.credentials]
client_id = "{org["client_id"]}"
client_secret = "{org["client_secret"]}"
refresh_token = "{org["refresh_token"]}"
realm_id = "{org["realm_id"]}"

[orgs.options]
{opts}""",
        encoding="utf-8",
    )
    return path


class TrackingClock(FixedClock):
    """syncd's clock follows the sandbox's, so token expiry and cursor age agree."""

    def __init__(self, sandbox: QuickBooksSandbox) -> None:
        super().__init__(SANDBOX_NOW)
        self.sandbox = sandbox

    def now(self) -> datetime:
        return datetime.fromisoformat(self.sandbox.control.now()).astimezone(UTC)


@dataclass
class Bench:
    sandbox: QuickBooksSandbox
    config: LoadedConfig
    store: Store
    clock: FixedClock
    sleeps: list[float]

    def connector(self) -> Connector:
        connector = connect(self.store, self.config, "qbo", self.clock)
        connector._sleep = self.sleeps.append  # type: ignore[attr-defined]
        connector.session._limiter._sleep = self.sleeps.append  # type: ignore[attr-defined]
        return connector

    def syncer(self, connector: Connector | None = None) -> Syncer:
        org_id = org_id_for(self.store, self.config, "qbo", self.clock)
        return Syncer(self.store, org_id, "qbo", connector or self.connector(), self.clock)


def make_bench(
    tmp_path: Path,
    store_url: str,
    invoices: int = 120,
    seed: int = 11,
    *,
    smtp_port: int | None = None,
    sandbox_options: dict[str, Any] | None = None,
    **options: Any,
) -> Iterator[Bench]:
    email = (
        f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        'from_address = "Acme Accounts <accounts@acme.test>"\nbcc = "ar@acme.test"\n'
        if smtp_port
        else ""
    )
    with QuickBooksSandbox(
        seed=seed, invoices=invoices, now=SANDBOX_NOW, **(sandbox_options or {})
    ) as sandbox:
        path = write_config(
            tmp_path / "syncd.toml", store_url, sandbox.org_config(), email=email, **options
        )
        config = load_config(path)
        store = open_store(config.store_url)
        try:
            yield Bench(sandbox, config, store, TrackingClock(sandbox), [])
        finally:
            store.close()


@pytest.fixture
def bench(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    yield from make_bench(tmp_path, store_url, page_size=40)


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Bench]:
    """Connector-level tests: the store only holds tokens, so SQLite is enough."""
    yield from make_bench(tmp_path, f"sqlite:///{tmp_path / 's.db'}", invoices=160, seed=5)


def later(clock: FixedClock, **delta: float) -> datetime:
    return clock.now() + timedelta(**delta)
