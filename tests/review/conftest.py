"""A provider sandbox (QuickBooks or Xero), a real SMTP server and a backfilled store, with
the org's ``review`` left at its default (the shared benches set ``review = "off"``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.config import load_config
from syncd.config.loader import LoadedConfig
from syncd.store import Store
from syncd.store.models import OutboxAction
from tests.connectors.quickbooks import conftest as qbo
from tests.connectors.xero import conftest as xero
from tests.support.smtp import Inbox, smtp_server

runner = CliRunner()
TEMPLATES = Path(__file__).parent / "templates"


def email_section(port: int, digest_to: str | None = None) -> str:
    digest = f'digest_to = "{digest_to}"\n' if digest_to else ""
    return (
        f'\n[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "Acme Accounts <accounts@acme.test>"\nbcc = "ar@acme.test"\n' + digest
    )


def default_review(path: Path, port: int, *, add_email: bool, **extra: str) -> LoadedConfig:
    """Drop the benches' ``review = "off"`` and early ``go_live`` (back to the defaults) and add
    what a test needs."""
    text = path.read_text(encoding="utf-8")
    text = text.replace('review = "off"\n', "").replace("go_live = 2024-01-01\n", "")
    for key, value in extra.items():
        text = text.replace('policy = "standard"\n', f'policy = "standard"\n{key} = {value}\n')
    if add_email:
        text += email_section(port)
    # The onboarding email of an org's first cycle; its real wording ships with the package.
    text = text.replace(
        'bcc = "ar@acme.test"\n', f'bcc = "ar@acme.test"\ntemplates_dir = "{TEMPLATES}"\n'
    )
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@dataclass
class World:
    provider: str
    org: str
    config: LoadedConfig
    store: Store
    inbox: Inbox
    now: Callable[[], datetime]
    writes: Callable[[], dict[str, list[dict[str, Any]]]]
    bench: Any

    def cli(self, *args: str, ok: bool = True) -> Any:
        result = runner.invoke(
            app, ["--config", str(self.config.path), "--now", self.now().isoformat(), *args]
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def review_json(self, *args: str) -> list[dict[str, Any]]:
        return list(json.loads(self.cli("review", "--json", *args).stdout))

    def outbox(self) -> list[OutboxAction]:
        with self.store.sessions() as s:
            return list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))


def make_world(
    provider: str,
    tmp_path: Path,
    store_url: str,
    port: int,
    inbox: Inbox,
    invoices: int | None = None,
    **extra: str,
) -> Iterator[World]:
    """A backfilled sandbox company (80 QuickBooks or 60 Xero invoices unless ``invoices``)."""
    if provider == "quickbooks":
        for qb in qbo.make_bench(tmp_path, store_url, invoices=invoices or 80, smtp_port=port):
            qb.config = default_review(qb.config.path, port, add_email=False, **extra)
            qb.syncer().backfill()
            yield World(
                provider,
                "qbo",
                qb.config,
                qb.store,
                inbox,
                qb.clock.now,
                qb.sandbox.control.writes,
                qb,
            )
    else:
        for xb in xero.make_bench(tmp_path, store_url, invoices=invoices or 60, minute_limit=5000):
            xb.config = default_review(xb.config.path, port, add_email=True, **extra)
            xb.syncer().backfill()
            yield World(
                provider,
                xero.ORG,
                xb.config,
                xb.store,
                inbox,
                xb.clock.now,
                xb.control.writes,
                xb,
            )


@pytest.fixture(params=["quickbooks", "xero"])
def world(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world(request.param, tmp_path, store_url, port, inbox)
