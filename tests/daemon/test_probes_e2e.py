"""A real ``syncd run`` against the QuickBooks sandbox, watched through ``/metrics`` and
``/healthz`` over HTTP: the figures are the store's and the sandbox's, and a refused login
turns the probe to 503 with the reason, then back to 200 once the org is reconnected."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from connectors.base import TokenState
from syncd.cli.app import app
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.store import open_store
from syncd.tokens import StoredTokens, load_cipher
from tests.contract.adapters import Adapter
from tests.contract.conftest import adapter_for
from tests.support.smtp import Inbox, free_port, smtp_server

#: A Tuesday, 09:00 in Los Angeles (the crash test's QuickBooks scenario).
NOW = "2026-11-03T17:00:00+00:00"
ORG = "shop"
runner = CliRunner()


@dataclass
class World:
    adapter: Adapter
    inbox: Inbox
    config: Path
    tmp: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli_json(self, *args: str) -> Any:
        result = runner.invoke(app, ["--config", str(self.config), "--now", NOW, *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    adapter = adapter_for("quickbooks")
    with (
        smtp_server() as (inbox, smtp_port),
        adapter.started("kind", seed=23, invoices=24, rate_limit_per_minute=100_000),
    ):
        port = free_port()
        config = tmp_path / "syncd.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path}/syncd.db"\n\n'
            f'[daemon]\nsync_interval_minutes = 1\nmetrics_address = "127.0.0.1:{port}"\n\n'
            f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            'from_address = "Acme Accounts <accounts@acme.test>"\n'
            + adapter.org_block(org_keys='review = "fees-and-escalations"\ngo_live = 2024-01-01\n'),
            encoding="utf-8",
        )
        yield World(adapter, inbox, config, tmp_path, port)


def refuse_mail(inbox: Inbox) -> None:
    """The mail server defers every message (451): the emails wait in the outbox to retry."""

    async def defer(server: Any, session: Any, envelope: Any) -> str:
        return "451 4.3.0 Mail server busy, try again later"

    inbox.handle_DATA = defer  # type: ignore[method-assign]


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.text()


def start_daemon(world: World, name: str) -> Daemon:
    log = world.tmp / f"{name}.log"
    args = ["--config", str(world.config), "--now", NOW, "--log-format", "json", "run"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncd", *args],
            stdout=out,
            stderr=out,
            env=os.environ.copy(),
        )
    return Daemon(proc, log)


def poll(daemon: Daemon, condition: Callable[[], Any], what: str, timeout: float = 150) -> Any:
    """Wait for a condition (not a sleep standing in for an assertion); the daemon must live."""
    deadline = time.monotonic() + timeout
    while True:
        assert daemon.proc.poll() is None, f"daemon exited while waiting for {what}:\n" + (
            daemon.text()
        )
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{daemon.text()}"
        time.sleep(0.2)


def healthz(world: World) -> tuple[int, dict[str, Any]] | None:
    try:
        reply = requests.get(f"{world.url}/healthz", timeout=10)
    except requests.ConnectionError:
        return None
    return reply.status_code, reply.json()


def jobs_ran(world: World, *jobs: str) -> tuple[int, dict[str, Any]] | None:
    got = healthz(world)
    if got is None:
        return None
    ran = got[1]["orgs"].get(ORG, {})
    return got if all(ran.get(job, {}).get("runs", 0) >= 1 for job in jobs) else None


def scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = requests.get(f"{world.url}/metrics", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def api_calls(samples: dict[Any, float], endpoint: str = "api") -> float:
    return sum(
        v
        for (name, labels), v in samples.items()
        if name == "syncd_api_calls_total"
        and ("provider", "quickbooks") in labels
        and ("endpoint", endpoint) in labels
    )


def test_metrics_and_health_reflect_the_store_and_the_sandbox(world: World) -> None:
    refuse_mail(world.inbox)
    once = runner.invoke(app, ["--config", str(world.config), "--now", NOW, "run-once"])
    assert once.exit_code in (0, 1), once.output
    before = len(world.adapter.statuses())

    daemon = start_daemon(world, "healthy")
    try:
        status, body = poll(daemon, lambda: jobs_ran(world, "sync", "execute"), "sync, execute")
        assert status == 200, body
        assert body["status"] == "ok" and body["problems"] == [] and body["scheduler"] == "running"
        samples = scrape(world)
        sandbox_calls = len(world.adapter.statuses()) - before
        again = scrape(world)
    finally:
        log = daemon.stop()
    assert daemon.proc.returncode == 0, log

    # Every API call the daemon made reached the sandbox, and the sandbox saw no other.
    assert api_calls(samples) == api_calls(again) == sandbox_calls > 0

    actions = world.cli_json("actions", "--json")
    by_status = Counter(a["status"] for a in actions)
    assert by_status["pending"] > 0, "the deferred emails wait to be retried"
    assert by_status["awaiting_review"] > 0, "the fees wait for review"
    assert by_status["done"] > 0
    for (kind, status), n in Counter((a["kind"], a["status"]) for a in actions).items():
        assert value(samples, "syncd_actions", org=ORG, kind=kind, status=status) == n
    depth = by_status["pending"] + by_status["in_flight"]
    assert value(samples, "syncd_outbox_depth", org=ORG) == depth
    review = world.cli_json("review", "--json")
    assert value(samples, "syncd_actions_awaiting_review", org=ORG) == len(review) > 0

    now = datetime.fromisoformat(NOW)
    due = [datetime.fromisoformat(a["scheduled_for"]) for a in actions if a["status"] == "pending"]
    oldest = (now - min(d for d in due if d <= now)).total_seconds()
    assert value(samples, "syncd_outbox_oldest_pending_age_seconds", org=ORG) == oldest
    # The daemon's sync is recorded at its clock (--now): no lag.
    assert value(samples, "syncd_last_sync_timestamp_seconds", org=ORG) == now.timestamp()
    assert value(samples, "syncd_sync_lag_seconds", org=ORG) == 0
    assert value(samples, "syncd_healthy") == 1
    assert value(samples, "syncd_last_success_timestamp_seconds", org=ORG, job="sync") > 0

    # What runs next, in the org's timezone and in UTC.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    cycle = [ln for ln in lines if ln.get("event") == "next run" and ln.get("job") == "cycle"]
    assert cycle, log
    assert cycle[0]["org"] == ORG and cycle[0]["timezone"] == "America/Los_Angeles"
    local, utc = datetime.fromisoformat(cycle[0]["at"]), datetime.fromisoformat(cycle[0]["at_utc"])
    assert local == utc and (local.hour, local.minute) == (9, 0) and utc.utcoffset() == timedelta(0)
    assert re.search(r"-0[78]:00$", cycle[0]["at"]), cycle[0]
    synced = [ln for ln in lines if ln.get("event") == "next run" and ln.get("job") == "sync"]
    assert len(synced) >= 2, "one line at start-up and one after the sync ran"


def reconnect(world: World, refresh_token: str) -> None:
    """What reconnecting the organisation leaves in the store: a working refresh token."""
    config = load_config(world.config)
    store = open_store(config.store_url)
    try:
        clock = FixedClock(datetime.fromisoformat(NOW))
        org_id = org_id_for(store, config, ORG, clock)
        StoredTokens(store.sessions, org_id, load_cipher(config), clock).save(
            TokenState(refresh_token=refresh_token)
        )
    finally:
        store.close()


def test_a_refused_login_turns_healthz_503_until_reconnected(world: World) -> None:
    once = runner.invoke(app, ["--config", str(world.config), "--now", NOW, "run-once"])
    assert once.exit_code in (0, 1), once.output
    # Another client spends the refresh token syncd holds (as a disconnect would).
    world.adapter.kill_refresh_token()

    daemon = start_daemon(world, "refused")
    try:
        status, body = poll(daemon, lambda: jobs_ran(world, "sync"), "the sync to run")
        assert status == 503, body
        assert body["status"] == "failing"
        (problem,) = [p for p in body["problems"] if p["job"] == "sync"]
        assert problem["org"] == ORG
        assert "reconnect the organisation" in problem["error"]
        assert "reconnect" in problem["why"]
        assert datetime.fromisoformat(problem["since"]).utcoffset() is not None
        assert value(scrape(world), "syncd_healthy") == 0

        reconnect(world, world.adapter.sandbox.org_config()["refresh_token"])
        # The sync's next run (a minute on) uses the new token.
        status, body = poll(
            daemon, lambda: (got := healthz(world)) and got[0] == 200 and got, "recovery"
        )
        assert body["problems"] == [] and body["orgs"][ORG]["sync"]["consecutive_failures"] == 0
    finally:
        log = daemon.stop()
    assert daemon.proc.returncode == 0, log
    assert "Traceback" not in log
