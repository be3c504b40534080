"""Two syncd processes on one store: every planned email, note and fee happens exactly once.

Counted where it matters: at the SMTP server (one message per action key) and in the
QuickBooks sandbox's write log (one note, one fee line per key). Before org leases, two
``run-once`` started together sent every reminder twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import connect, org_id_for
from syncd.dunning.cycle import run_cycle
from syncd.store import open_store
from syncd.store.models import AuditEntry, OutboxAction
from syncd.sync import Syncer
from tests.outbox.test_crash import SCENARIOS, World, backend, outcome
from tests.outbox.test_crash import make_world as crash_world

__all__ = ["backend"]  # the fixture (sqlite, postgresql)

#: The crash test's QuickBooks world (org "shop"): its sandbox, SMTP server and config.
NOW = SCENARIOS["quickbooks"][1]


def make_world(tmp: Path, backend: str) -> Iterator[World]:
    return crash_world(tmp, backend, "quickbooks", "kind")


def _child(args: list[str], log: str) -> None:
    out = os.open(log, os.O_WRONLY | os.O_CREAT)
    os.dup2(out, 1)
    os.dup2(out, 2)
    # pytest's capture replaced sys.stdout/stderr: write to the log file's descriptors.
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    from syncd.cli.app import app

    code = 0
    try:
        app(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def start(world: World, log: Path, *extra: str) -> multiprocessing.process.BaseProcess:
    args = ["--config", str(world.config), "--now", NOW, "--log-format", "json"]
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=([*args, "run-once", *extra], str(log))
    )
    proc.start()
    return proc


def finish(proc: multiprocessing.process.BaseProcess) -> int:
    proc.join(180)
    assert not proc.is_alive(), "run-once hung"
    return int(proc.exitcode or 0)


def check_once(world: World) -> dict[str, str]:
    got = outcome(world)
    got.check_exactly_once()
    done_emails = {k for k, s in got.statuses.items() if s == "done" and got.kinds[k] == "email"}
    assert done_emails, "the scenario sends reminder emails"
    assert len(world.inbox.messages) == len(done_emails)
    assert sum(got.notes.values()) == sum(1 for k in got.kinds.values() if k == "note")
    store = open_store(world.store_url)
    try:
        with store.sessions() as s:
            events = Counter(e.event for e in s.scalars(select(AuditEntry)))
            rows = list(s.scalars(select(OutboxAction)))
    finally:
        store.close()
    assert events["action.recovered"] == 0, "nothing crashed: nothing to recover"
    assert events["action.planned"] == len(rows)
    assert events["action.done"] == sum(1 for r in rows if r.status == "done")
    return got.statuses


def test_two_run_once_started_together_act_exactly_once(tmp_path: Path, backend: str) -> None:
    for world in make_world(tmp_path, backend):
        first = start(world, tmp_path / "a.log", "--wait", "120")
        second = start(world, tmp_path / "b.log", "--wait", "120")
        codes = [finish(first), finish(second)]
        logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        assert set(codes) <= {0, 1}, logs  # 1: the seed's customers without email fail
        assert "Traceback" not in logs and "UNIQUE" not in logs
        check_once(world)


def test_two_run_once_without_wait_one_steps_aside(tmp_path: Path, backend: str) -> None:
    for world in make_world(tmp_path, backend):
        first = start(world, tmp_path / "a.log")
        second = start(world, tmp_path / "b.log")
        codes = sorted([finish(first), finish(second)])
        logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        # Either the second found the org busy (exit 3), or it started after the first had
        # finished and found nothing left to do.
        assert codes[0] in (0, 1) and codes[1] in (0, 1, 3), logs
        assert "Traceback" not in logs
        check_once(world)


HOLDER = """
import sys
import time
from datetime import datetime
from pathlib import Path
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.daemon.runner import take_lease
from syncd.store import open_store

config = load_config(sys.argv[1])
store = open_store(config.store_url)
org_id = org_id_for(store, config, "shop", FixedClock(datetime.fromisoformat(sys.argv[2])))
lease = take_lease(store, config, "shop", org_id)
print("held", lease.since_text, flush=True)
while not Path(sys.argv[3]).exists():
    time.sleep(0.05)
lease.release()
store.close()
"""


def hold(world: World, release: Path) -> tuple[subprocess.Popen[str], str]:
    """Another process holding the org's lease until ``release`` exists; and since when.

    (Not until its stdin closes: the forked run-once children inherit the pipe.)
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(world.config), NOW, str(release)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("held "), line
    return proc, line.removeprefix("held ").strip()


def test_busy_message_names_the_holder_and_wait_waits(tmp_path: Path) -> None:
    for world in make_world(tmp_path, "sqlite"):
        holder, since = hold(world, tmp_path / "release")
        try:
            code = finish(start(world, tmp_path / "busy.log"))
            text = (tmp_path / "busy.log").read_text()
            assert code == 3, text
            expected = (
                f"syncd: org 'shop' is busy: held by host {socket.gethostname()}, "
                f"pid {holder.pid}, since {since} (nothing done; try --wait SECONDS)"
            )
            assert expected in text, text
            assert not world.inbox.messages

            (tmp_path / "wait.log").touch()
            waiting = start(world, tmp_path / "wait.log", "--wait", "120")
            # Release only once the child has found the org busy and is waiting.
            while "org busy: waiting" not in (tmp_path / "wait.log").read_text():
                assert waiting.is_alive(), (tmp_path / "wait.log").read_text()
                waiting.join(0.05)
        finally:
            (tmp_path / "release").touch()
            holder.wait(60)
        assert finish(waiting) in (0, 1), (tmp_path / "wait.log").read_text()
        check_once(world)


def slow_down(world: World) -> None:
    """Each message takes a while, so the daemon is still executing when run-once starts."""
    accept = world.inbox.handle_DATA

    async def slow(server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.5)
        return await accept(server, session, envelope)

    world.inbox.handle_DATA = slow  # type: ignore[method-assign]


def queue_actions(world: World) -> None:
    """Sync and plan first, so that the daemon's executor (run at start) has work at once."""
    config = load_config(world.config)
    store = open_store(config.store_url)
    try:
        clock = FixedClock(datetime.fromisoformat(NOW))
        org_id = org_id_for(store, config, "shop", clock)
        connector = connect(store, config, "shop", clock)
        Syncer(store, org_id, "shop", connector, clock).sync()
        connector.close()
        assert run_cycle(store, config, "shop", org_id, clock.now()).queued > 0
    finally:
        store.close()


def test_run_once_while_the_daemon_executes_acts_exactly_once(tmp_path: Path) -> None:
    for world in make_world(tmp_path, "sqlite"):
        queue_actions(world)
        slow_down(world)
        daemon = _daemon(world, tmp_path)
        try:
            while not world.inbox.messages:  # the daemon is executing
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
                _wait(daemon)
            code = finish(start(world, tmp_path / "once.log", "--wait", "120"))
            assert code in (0, 1), (tmp_path / "once.log").read_text()
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
        assert daemon.returncode == 0, (tmp_path / "daemon.log").read_text()
        check_once(world)


def _wait(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(0.05)


def _daemon(world: World, tmp_path: Path) -> subprocess.Popen[bytes]:
    log = (tmp_path / "daemon.log").open("wb")
    with world.config.open("a", encoding="utf-8") as config:  # no /metrics port to fight over
        config.write('\n[daemon]\nmetrics_address = ""\n')
    args = ["--config", str(world.config), "--now", NOW, "--log-format", "json", "run"]
    return subprocess.Popen([sys.executable, "-m", "syncd", *args], stdout=log, stderr=log)


def test_sigterm_mid_execution_finishes_the_action_in_flight(tmp_path: Path) -> None:
    for world in make_world(tmp_path, "sqlite"):
        queue_actions(world)
        slow_down(world)
        daemon = _daemon(world, tmp_path)
        while not world.inbox.messages:  # mid-execution: more emails are waiting
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
            _wait(daemon)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        log = (tmp_path / "daemon.log").read_text()
        assert daemon.returncode == 0, log
        assert "Traceback" not in log and "still in flight" not in log
        got = outcome(world)
        assert "in_flight" not in got.statuses.values()  # the action in flight was finished
        assert not got.unconfirmed
        sent = {k for k, s in got.statuses.items() if s == "done" and got.kinds[k] == "email"}
        assert len(world.inbox.messages) == len(sent) >= 1
        assert "pending" in got.statuses.values(), "stopped before the queue was empty"
        # A later run finishes the rest: still exactly once.
        assert finish(start(world, tmp_path / "rest.log")) in (0, 1)
        check_once(world)
