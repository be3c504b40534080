"""The connector contract's bench: every installed connector that ships a sandbox, in every
sandbox mode, on every store backend.

Connectors and sandboxes are found through the ``syncd.connectors`` and ``syncd.sandboxes``
entry points, as the CLI finds them; :mod:`tests.contract.adapters` says how to drive each
sandbox. ``mode`` is ``kind`` (the sandbox's defaults) or ``strict`` (where a provider's
documentation is silent, the sandbox takes the unfavourable choice).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Connector
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.config.loader import LoadedConfig
from syncd.connections import connect, org_id_for
from syncd.store import Store, open_store
from syncd.sync import Syncer
from tests.contract.adapters import ADAPTERS, MODES, Adapter, Pace, accepts_strict

SANDBOXES = {ep.name: ep for ep in entry_points(group="syncd.sandboxes")}
CONNECTORS = {ep.name for ep in entry_points(group="syncd.connectors")}
PROVIDERS = sorted(CONNECTORS & SANDBOXES.keys())


class TrackingClock(FixedClock):
    """syncd's clock follows the sandbox's, so token expiry and cursor age agree."""

    def __init__(self, adapter: Adapter) -> None:
        super().__init__(datetime(2026, 1, 1, tzinfo=UTC))
        self.adapter = adapter

    def now(self) -> datetime:
        return self.adapter.sandbox_now()


@dataclass
class World:
    adapter: Adapter
    config: LoadedConfig
    store: Store
    clock: TrackingClock
    pace: Pace

    @property
    def org(self) -> str:
        return self.adapter.org

    def connector(self) -> Any:
        connector = connect(self.store, self.config, self.org, self.clock)
        self.adapter.pace(connector, self.pace)
        return connector

    def syncer(self, connector: Connector | None = None) -> Syncer:
        org_id = org_id_for(self.store, self.config, self.org, self.clock)
        return Syncer(self.store, org_id, self.org, connector or self.connector(), self.clock)

    def mismatches(self) -> list[str]:
        with self.store.sessions() as s:
            return self.adapter.mismatches(s)


def adapter_for(provider: str) -> Adapter:
    if provider not in ADAPTERS:
        raise AssertionError(
            f"connector {provider!r} ships a sandbox but tests/contract/adapters.py has no "
            "adapter for it: add one so the contract covers it"
        )
    return ADAPTERS[provider](SANDBOXES[provider].load())


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, provider: str) -> str:
    if request.param == "strict" and not accepts_strict(SANDBOXES[provider].load()):
        pytest.skip("sandbox has no strict mode")
    return str(request.param)


#: Review off and go-live long ago: every planned action runs, on the full ladder (notes,
#: fees, escalations) rather than the first cycle's one onboarding email per customer.
FULL_LADDER = 'review = "off"\ngo_live = 2024-01-01\n'


def make_world(
    tmp_path: Path,
    store_url: str,
    provider: str,
    mode: str,
    *,
    seed: int = 11,
    invoices: int = 80,
    sandbox: dict[str, Any] | None = None,
    extra_config: str = "",
    org_keys: str = "",
    **options: Any,
) -> Iterator[World]:
    """``org_keys``: extra lines for the ``[[orgs]]`` table (see :data:`FULL_LADDER`)."""
    adapter = adapter_for(provider)
    with adapter.started(mode, seed=seed, invoices=invoices, **(sandbox or {})):
        path = tmp_path / "syncd.toml"
        store_block = f'[store]\nurl = "{store_url}"\n{extra_config}\n'
        path.write_text(
            store_block + adapter.org_block(org_keys=org_keys, **options), encoding="utf-8"
        )
        config = load_config(path)
        store = open_store(config.store_url)
        try:
            yield World(adapter, config, store, TrackingClock(adapter), Pace(adapter.advance))
        finally:
            store.close()


@pytest.fixture
def world(tmp_path: Path, store_url: str, provider: str, mode: str) -> Iterator[World]:
    yield from make_world(tmp_path, store_url, provider, mode, page_size=25)
