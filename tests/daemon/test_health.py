"""The health rules (retry budget, refused logins, a stopped scheduler), the daemon's jobs
feeding them, the endpoint's config key, and a busy port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.base import AuthError, TransientError
from syncd.clock import FixedClock
from syncd.config import ConfigError, load_config
from syncd.daemon.health import Health
from syncd.daemon.probes import ProbeServer
from syncd.daemon.runner import OrgRun
from syncd.daemon.service import Service
from syncd.metrics import Metrics
from syncd.store import open_store
from tests.outbox.test_daemon import CONFIG
from tests.support.smtp import free_port

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


class Now:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def health(now: Now, alive: bool = True) -> Health:
    return Health(["east", "west"], timedelta(minutes=30), scheduler_alive=lambda: alive, now=now)


def test_a_failing_job_is_healthy_within_its_budget_then_not() -> None:
    now = Now()
    h = health(now)
    h.succeeded("west", "sync")
    h.failed("east", "sync", "connection failed: provider.example")
    now.at += timedelta(minutes=15)
    h.failed("east", "sync", "connection failed: provider.example")
    now.at += timedelta(minutes=15)
    assert h.report()[0], "exactly at the budget: still retrying"
    now.at += timedelta(seconds=1)
    healthy, body = h.report()
    assert not healthy and body["status"] == "failing"
    (problem,) = body["problems"]
    assert problem == {
        "org": "east",
        "job": "sync",
        "error": "connection failed: provider.example",
        "since": T0.isoformat(),
        "consecutive_failures": 2,
        "why": "failing for longer than the retry budget (0:30:00)",
    }
    h.succeeded("east", "sync")
    healthy, body = h.report()
    assert healthy and body["problems"] == []
    assert body["orgs"]["east"]["sync"]["consecutive_failures"] == 0


def test_a_refused_login_has_no_budget_and_a_stopped_scheduler_is_unhealthy() -> None:
    now = Now()
    h = health(now)
    h.failed("west", "execute", "Xero refused the token refresh; reconnect", needs_human=True)
    healthy, body = h.report()
    assert not healthy and body["problems"][0]["why"].startswith("the provider refused")
    healthy, body = health(now, alive=False).report()
    assert not healthy and body["scheduler"] == "stopped" and body["problems"] == []


def write(tmp_path: Path, address: str) -> Path:
    path = tmp_path / "syncd.toml"
    text = CONFIG.format(name="east", tz="America/New_York")
    path.write_text(
        text.replace('metrics_address = ""', f'metrics_address = "{address}"'), encoding="utf-8"
    )
    return path


def test_jobs_report_to_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, ""))
    store = open_store(config.store_url)
    try:
        service = Service(store, config, FixedClock())
        assert service.health.budget == timedelta(minutes=10)  # two 5-minute sync intervals

        def down() -> None:
            raise TransientError("connection failed: 127.0.0.1:9")

        service._guarded("east", "sync", down)
        assert service.health.problems() == [], "one failure is within the budget"

        def refused() -> None:
            raise AuthError("QuickBooks refused the token refresh (invalid_grant)")

        service._guarded("east", "execute", refused)
        (problem,) = service.health.problems()
        assert (problem.org, problem.job) == ("east", "execute")

        # The dunning cycle's failure is reported by the runner, not raised: it still counts.
        failed = OrgRun("east", error="Xero said no", cause=AuthError("Xero said no"))
        monkeypatch.setattr("syncd.daemon.service.run_org_once", lambda *a, **k: failed)
        service._guarded("east", "cycle", lambda: service._cycle("east"))
        assert {p.job for p in service.health.problems()} == {"execute", "cycle"}
        service._guarded("east", "execute", lambda: None)
        assert {p.job for p in service.health.problems()} == {"cycle"}
    finally:
        store.close()


@pytest.mark.parametrize("address", ["nope", "host:99999", ":80", "127.0.0.1:"])
def test_metrics_address_is_validated(tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, address))
    message = str(caught.value)
    assert "daemon.metrics_address" in message and "host:port" in message
    assert str(tmp_path / "syncd.toml") in message


def test_metrics_address_defaults_on_and_empty_is_off(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    default = path.read_text(encoding="utf-8").replace('metrics_address = ""\n', "")
    (tmp_path / "default.toml").write_text(default, encoding="utf-8")
    assert load_config(tmp_path / "default.toml").settings.daemon.metrics_address == (
        "127.0.0.1:9464"
    )
    config = load_config(path)
    store = open_store(config.store_url)
    try:
        assert Service(store, config, FixedClock())._probes() is None
    finally:
        store.close()


def test_the_probe_server_answers_only_its_two_paths() -> None:
    metrics, h = Metrics(), health(Now())
    server = ProbeServer("127.0.0.1:0", h, metrics.registry)
    server.start()
    try:
        assert requests.get(f"{server.url}/nope", timeout=10).status_code == 404
        assert requests.post(f"{server.url}/healthz", timeout=10).status_code == 405
        reply = requests.get(f"{server.url}/metrics", timeout=10)
        assert reply.status_code == 200 and "syncd_api_calls" in reply.text
        assert "process_start_time_seconds" in reply.text and "python_info" in reply.text
        reply = requests.get(f"{server.url}/healthz", timeout=10)
        assert reply.status_code == 200 and reply.json()["status"] == "ok"
        h.failed("east", "sync", "refused", needs_human=True)
        reply = requests.get(f"{server.url}/healthz", timeout=10)
        assert reply.status_code == 503 and reply.json()["problems"][0]["org"] == "east"
    finally:
        server.stop()


def test_a_busy_port_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        path = write(tmp_path, f"127.0.0.1:{port}")
        done = subprocess.run(
            [sys.executable, "-m", "syncd", "--config", str(path), "run"],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ.copy(),
        )
    assert done.returncode == 2, done.stderr
    assert "cannot listen" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert "metrics_address" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_job_running_past_its_timeout_is_reported_stuck_until_it_ends() -> None:
    now = Now()
    h = Health(["east"], timedelta(minutes=30), stuck_after=timedelta(minutes=60), now=now)
    h.started("east", "sync")
    now.at += timedelta(minutes=60)
    assert h.report()[0], "exactly at the timeout: still allowed"
    now.at += timedelta(seconds=1)
    healthy, body = h.report()
    assert not healthy
    (problem,) = body["problems"]
    assert (problem["job"], problem["error"], problem["since"]) == (
        "sync",
        "still running",
        T0.isoformat(),
    )
    assert "stuck" in problem["why"] and body["orgs"]["east"]["sync"]["running_since"]
    h.succeeded("east", "sync")
    healthy, body = h.report()
    assert (
        healthy and body["problems"] == [] and body["orgs"]["east"]["sync"]["running_since"] is None
    )


def test_the_daemon_reads_the_job_timeout_from_config(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[email]", "job_timeout_minutes = 7\n\n[email]"), "utf-8")
    config = load_config(path)
    store = open_store(config.store_url)
    try:
        assert Service(store, config, FixedClock()).health.stuck_after == timedelta(minutes=7)
    finally:
        store.close()


class Runs:
    """run_org_once's stand-in: the answers to give, one per call."""

    def __init__(self, *answers: OrgRun) -> None:
        self.answers, self.calls = list(answers), 0

    def __call__(self, *args: object, **kwargs: object) -> OrgRun:
        self.calls += 1
        return self.answers.pop(0)


DOWN = OrgRun("east", error="connection failed", cause=TransientError("connection failed"))


@dataclass
class Retrying:
    """A paused daemon for org ``east`` (New York, 5-minute sync interval) whose cycles give
    the answers a test hands to :meth:`answers`, and whose clock is ``now`` (07:00 there)."""

    service: Service
    now: Now
    monkeypatch: pytest.MonkeyPatch

    def answers(self, *runs: OrgRun) -> Runs:
        stand_in = Runs(*runs)
        self.monkeypatch.setattr("syncd.daemon.service.run_org_once", stand_in)
        return stand_in

    def cycle(self) -> None:
        self.service._guarded("east", "cycle", lambda: self.service._cycle("east"))

    def retry(self) -> None:
        self.service.scheduler.get_job("east:cycle-retry").func()

    def retry_at(self) -> datetime | None:
        job = self.service.scheduler.get_job("east:cycle-retry")
        return None if job is None else job.trigger.run_date.astimezone(UTC)


@pytest.fixture
def retrying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Retrying]:
    config = load_config(write(tmp_path, ""))
    store = open_store(config.store_url)
    service = Service(store, config, FixedClock())
    now = Now()
    service.retry.now = service.health.now = now
    service.scheduler.start(paused=True)
    try:
        yield Retrying(service, now, monkeypatch)
    finally:
        service.scheduler.shutdown(wait=False)
        store.close()


def test_a_failed_cycle_is_retried_later_the_same_day_with_backoff(retrying: Retrying) -> None:
    runs = retrying.answers(DOWN, DOWN, DOWN, DOWN)
    retrying.cycle()
    assert retrying.retry_at() == T0 + timedelta(minutes=5)
    for delay in (10, 20):  # each retry that fails waits twice as long
        retrying.retry()
        assert retrying.retry_at() == T0 + timedelta(minutes=delay)
    retrying.retry()  # the third retry fails too
    assert runs.calls == 4
    assert retrying.retry_at() is None, "cycle_retries = 3 by default: no fourth"
    assert retrying.service.health.problems() == [], "within the budget: not yet a problem"


def test_a_retried_cycle_that_succeeds_clears_health_and_a_refused_login_is_not_retried(
    retrying: Retrying,
) -> None:
    refused = OrgRun("east", error="Xero said no", cause=AuthError("Xero said no"))
    runs = retrying.answers(DOWN, OrgRun("east"), refused)
    health = retrying.service.health
    retrying.cycle()
    retrying.retry()
    assert runs.calls == 2
    assert health.report()[1]["orgs"]["east"]["cycle"]["consecutive_failures"] == 0
    assert retrying.retry_at() is None, "the retry ran and succeeded: nothing more to try"
    retrying.cycle()
    assert retrying.retry_at() is None, "a refused login needs a human, not a retry"
    assert [p.job for p in health.problems()] == ["cycle"]


def test_no_retry_is_scheduled_past_the_end_of_the_orgs_local_day(retrying: Retrying) -> None:
    retrying.answers(DOWN)
    retrying.now.at = datetime(2026, 11, 4, 4, 58, tzinfo=UTC)  # 23:58 in New York
    retrying.cycle()
    assert retrying.retry_at() is None
