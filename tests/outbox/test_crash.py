"""Kill ``syncd run-once`` with SIGKILL at many instants, restart it, and check from the
sandbox's record and the SMTP inbox that every planned action happened exactly once.

How kill points are chosen:

* a crash-free reference run records every crash point it passes (``SYNCD_CRASHPOINT_TRACE``):
  between each pair of steps of sync, planning and execution (page committed; cycle before and
  after commit; claim; fresh read; before and after the provider call; before and after the
  SMTP hand-off; before and after recording the outcome). Every (point, n-th passage) pair
  of that trace is a kill point;
* random instants: the parent kills the child after a random delay within the reference
  run's duration, wherever it happens to be (inside an HTTP call, mid-transaction ...).

Kill points are chained: one world takes several kills in a row (a crash during recovery from
a crash) before a clean run finishes the work; then it is checked. ``SYNCD_CRASH_POINTS``
sets how many kill points each backend gets against QuickBooks (200 by default); Xero gets
a fifth of that (40 by default: its runs are slower), to keep the suite's time in bounds.

Every provider with a contract adapter (``tests/contract/adapters.py``) is exercised: the
sandbox's write log is read through the adapter.

The child is a fork of the test process running the real CLI, so a run costs no interpreter
start-up; the sandbox and the SMTP server live in the parent and survive every kill.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.store import open_store
from syncd.store.models import OutboxAction
from tests.conftest import POSTGRES_URL, _postgres_database
from tests.contract.adapters import MODES, Adapter, accepts_strict
from tests.contract.conftest import FULL_LADDER, PROVIDERS, adapter_for
from tests.support.smtp import Inbox, smtp_server

POINTS = int(os.environ.get("SYNCD_CRASH_POINTS", "200"))
#: Kills per strict world set (the sandbox's unfavourable answers wherever the provider's
#: documentation is silent: shuffled ties, replay windows that expire, emails outside replay).
STRICT_POINTS = int(os.environ.get("SYNCD_CRASH_STRICT_POINTS", "60"))
CHAIN = 6
SEED, INVOICES = 23, 24
#: Per provider: kill points, syncd's --now (inside the send window, a day after the sandbox
#: starts) and sandbox settings (the crash test is not about throttling: a world takes many
#: runs in a few seconds).
SCENARIOS: dict[str, tuple[int, str, dict[str, Any]]] = {
    # A Tuesday, 09:00 in Los Angeles.
    "quickbooks": (POINTS, "2026-11-03T17:00:00+00:00", {"rate_limit_per_minute": 100_000}),
    # A Tuesday, 09:30 UTC. A smaller company: syncd keeps to Xero's 60 calls a minute, so a
    # run must need fewer (this one: about 52, for 18 actions) to take seconds, not minutes.
    "xero": (
        max(CHAIN, POINTS // 5),
        "2026-05-05T09:30:00+00:00",
        {
            "minute_limit": 100_000,
            "day_limit": 1_000_000,
            "seed": 7,
            "invoices": 8,
            "now": datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        },
    ),
}


def _child(config: str, point: str, trace: str, log: str, now: str) -> None:
    import syncd.crashpoints as cp

    cp._NAME, _, cp._NTH = point.partition("#")
    cp._TRACE = trace
    cp._HITS.clear()
    out = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(out, 2)
    from syncd.cli.app import app

    try:
        app(["--config", config, "--now", now, "--log-level", "CRITICAL", "run-once"])
    except SystemExit as exc:
        os._exit(int(exc.code or 0))
    os._exit(0)


def run_child(
    world: World,
    point: str = "",
    trace: str = "",
    kill_after: float | None = None,
    log: str = "",
) -> int:
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_child, args=(str(world.config), point, trace, log, world.now))
    proc.start()
    if kill_after is not None:
        proc.join(kill_after)
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
    proc.join(120)
    assert not proc.is_alive(), "run-once hung"
    return int(proc.exitcode or 0)


@dataclass
class World:
    adapter: Adapter
    inbox: Inbox
    config: Path
    store_url: str
    now: str


@dataclass
class Outcome:
    statuses: dict[str, str]
    kinds: dict[str, str]
    errors: dict[str, str | None]
    #: Why an action waits for review (only a customer without an email address, here).
    reviews: dict[str, str | None]
    unconfirmed: set[str]
    notes: Counter[str]
    fee_lines: Counter[str]
    provider_emails: int
    smtp: Counter[str]

    def check_exactly_once(self, *, final: bool = True) -> None:
        assert all(n == 1 for n in self.notes.values()), self.notes
        assert all(n == 1 for n in self.fee_lines.values()), self.fee_lines
        assert all(n == 1 for n in self.smtp.values()), self.smtp
        if final:
            open_ = {
                k: s for k, s in self.statuses.items() if s not in ("done", "skipped", "failed")
            }
            assert all(
                s == "awaiting_review" and "has no email address" in str(self.reviews[k])
                for k, s in open_.items()
            ), {k: (s, self.reviews[k]) for k, s in open_.items()}


def outcome(world: World) -> Outcome:
    store = open_store(world.store_url)
    try:
        with store.sessions() as s:
            rows = list(s.scalars(select(OutboxAction)))
    finally:
        store.close()
    return Outcome(
        statuses={r.idempotency_key: r.status for r in rows},
        kinds={r.idempotency_key: r.kind for r in rows},
        errors={r.idempotency_key: r.last_error for r in rows},
        reviews={r.idempotency_key: r.review_reason for r in rows},
        unconfirmed={
            r.idempotency_key
            for r in rows
            if "unconfirmed" in str((r.result or {}).get("delivery"))
        },
        notes=world.adapter.note_tags(),
        fee_lines=world.adapter.fee_tags(),
        provider_emails=world.adapter.provider_emails(),
        smtp=Counter(str(m.message.get(KEY_HEADER)) for m in world.inbox.messages),
    )


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                POSTGRES_URL is None, reason="SYNCD_TEST_POSTGRES_URL is not set"
            ),
        ),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, provider: str) -> str:
    """``strict``: the sandbox answers unfavourably wherever the provider's docs are silent."""
    if request.param == "strict" and not accepts_strict(adapter_for(provider).sandbox_class):
        pytest.skip("sandbox has no strict mode")
    return str(request.param)


#: Strict sandboxes add a bulk import to the seed; a few dozen rows sharing one timestamp
#: keep a world's run to seconds (the contract suite covers bulk imports at full size).
STRICT_SETTINGS: dict[str, dict[str, Any]] = {
    "quickbooks": {"bulk_import_size": 20},
    "xero": {"bulk_import": 6},
}


def make_world(tmp: Path, backend: str, provider: str, mode: str) -> Iterator[World]:
    tmp.mkdir(parents=True, exist_ok=True)
    _, now, settings = SCENARIOS[provider]
    if mode == "strict":
        settings = {**settings, **STRICT_SETTINGS[provider]}
    adapter = adapter_for(provider)
    adapter.now = settings.get("now", adapter.now)
    sandbox = {k: v for k, v in settings.items() if k not in ("now", "invoices", "seed")}
    invoices, seed = int(settings.get("invoices", INVOICES)), int(settings.get("seed", SEED))
    with (
        smtp_server() as (inbox, port),
        adapter.started(mode, seed=seed, invoices=invoices, **sandbox),
    ):
        urls = _postgres_database() if backend == "postgresql" else iter([f"sqlite:///{tmp}/s.db"])
        for url in urls:
            email = (
                f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                'from_address = "Acme Accounts <accounts@acme.test>"\n'
            )
            config = tmp / "syncd.toml"
            config.write_text(
                f'[store]\nurl = "{url}"\n{email}\n{adapter.org_block(org_keys=FULL_LADDER)}',
                encoding="utf-8",
            )
            yield World(adapter, inbox, config, url, now)


def reference(
    tmp: Path, backend: str, provider: str, mode: str
) -> tuple[Outcome, list[str], float]:
    trace = tmp / "trace.txt"
    for world in make_world(tmp, backend, provider, mode):
        started = time.monotonic()
        code = run_child(world, trace=str(trace))
        duration = time.monotonic() - started
        assert code in (0, 1)
        ref = outcome(world)
    names = trace.read_text(encoding="utf-8").split()
    seen: Counter[str] = Counter()
    points = []
    for name in names:
        seen[name] += 1
        points.append(f"{name}#{seen[name]}")
    return ref, points, duration


def test_every_action_happens_exactly_once_across_kills(
    tmp_path: Path, backend: str, provider: str, mode: str
) -> None:
    points = SCENARIOS[provider][0]
    if mode == "strict":
        points = max(CHAIN, min(points, STRICT_POINTS))
    ref, traced, duration = reference(tmp_path / "ref", backend, provider, mode)
    print(f"\nreference run: {duration:.2f}s, {len(traced)} crash-point passages")
    ref.check_exactly_once()
    assert ref.statuses and not ref.unconfirmed
    done_emails = {k for k, s in ref.statuses.items() if s == "done" and ref.kinds[k] == "email"}
    assert done_emails, "the scenario must send reminder emails"

    seed = f"{backend}:{provider}" if provider != "quickbooks" else backend
    seed += ":strict" if mode == "strict" else ""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    names = sorted({p.partition("#")[0] for p in traced})
    # First kill of each world: a passage of the reference trace, evenly spread over it (a
    # fresh world is guaranteed to reach it). Later kills in the same world hit a recovery
    # run: an early passage of a random crash point, or a random instant.
    firsts = traced[:: max(1, len(traced) // max(1, points // CHAIN))]

    def later_point() -> tuple[str, float | None]:
        if rng.random() < 0.4:
            return "", rng.uniform(0.05, max(0.1, duration))
        # A point no kill has reached yet comes first (its first passage), so that a short
        # run, as Xero's, still covers them all.
        missing = [n for n in names if n not in points_killed]
        if missing and rng.random() < 0.5:
            return f"{rng.choice(missing)}#1", None
        return f"{rng.choice(names)}#{rng.randint(1, 3)}", None

    findings: Counter[str] = Counter()
    points_killed: Counter[str] = Counter()
    kills = world_no = 0

    def first_point() -> str:
        # Every other world (and every world once the budget is spent) opens with the first
        # passage of a point no kill has reached yet: a fresh world is sure to pass it.
        missing = [n for n in names if n not in points_killed]
        if missing and (world_no % 2 or kills >= points):
            return f"{missing[0]}#1"
        return firsts[world_no % len(firsts)]

    extra = 0  # worlds beyond the budget, to reach points no kill has reached yet
    while kills < points or (set(names) - set(points_killed) and extra < 2 * len(names)):
        extra += kills >= points
        chain: list[tuple[str, float | None]] = [(first_point(), None)]
        chain += [later_point() for _ in range(CHAIN - 1)]
        for world in make_world(tmp_path / f"w{world_no}", backend, provider, mode):
            for point, delay in chain:
                code = run_child(world, point=point, kill_after=delay)
                if code == -signal.SIGKILL:
                    kills += 1
                    points_killed[point.partition("#")[0] or "random instant"] += 1
                findings["killed" if code == -signal.SIGKILL else f"exit {code}"] += 1
            log = world.config.with_name("final-run.log")
            assert run_child(world, log=str(log), point="") in (0, 1)
            got = outcome(world)
            if set(got.statuses.values()) & {"pending", "in_flight"}:
                final = log.read_text()
                # A kill between the provider rotating the refresh token and syncd saving it
                # loses the connection (the old token is dead, the new one never stored):
                # the org needs reconnecting. Nothing may have happened twice meanwhile.
                assert "reconnect the organisation" in final, f"chain {chain}:\n{final}"
                assert any(delay is not None for _, delay in chain), chain
                got.check_exactly_once(final=False)
                findings["connection lost: killed between token rotation and save"] += 1
                continue  # (the only world of this generator: on to the next chain)
            got.check_exactly_once()
            assert got.statuses.keys() == ref.statuses.keys()
            for key, status in ref.statuses.items():
                if key in got.unconfirmed:
                    findings["email unconfirmed (crash after hand-off)"] += 1
                    assert status == "done" and got.smtp[key_digest(key)] <= 1
                    continue
                assert got.statuses[key] == status, (key, got.errors[key], chain)
            assert set(got.notes) == set(ref.notes)
            assert set(got.fee_lines) == set(ref.fee_lines)
            assert got.provider_emails == ref.provider_emails
            expected_mail = {key_digest(k) for k in done_emails} - {
                key_digest(k) for k in got.unconfirmed if got.smtp[key_digest(k)] == 0
            }
            assert set(got.smtp) == expected_mail
        world_no += 1
    print(f"\n{provider}/{backend}: {kills} kills in {world_no} worlds; outcomes {dict(findings)}")
    print(f"kills per point: {dict(sorted(points_killed.items()))}")
    # Every crash point on the execution path was hit at least once.
    assert set(names) <= set(points_killed), set(names) - set(points_killed)
