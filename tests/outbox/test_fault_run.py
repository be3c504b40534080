"""Fault run (issue 15): syncd keeps running against a sandbox that misbehaves on purpose.

For each provider, a seeded run of a fixed number of rounds. Each round the sandbox is told,
through its fault-injection control API, to answer some of the next requests with 500, 503,
429, a timeout, a dropped connection (before or after doing the work), malformed JSON, a
stale SyncToken (QuickBooks) or an expired access token; the bookkeeper pays invoices and
moves due dates; then ``syncd run-once`` runs at the next business day. After the faults are
switched off and clean passes have run, the store equals the sandbox's truth and every planned
action happened exactly once (SMTP messages per key, notes and fee lines per tag in the
sandbox's write log).

``run-once`` runs in a forked child (the real CLI, no interpreter start-up). Its connector's
waits (backoff, a 429's pause) are fake time, as in the contract suite: the sandbox's clock is
moved forward by the wait instead of the process sleeping, so that a 60 s throttle pause costs
nothing and the whole run stays within seconds per round.

Why ``run-once`` and not ``syncd run``: the daemon's jobs run on APScheduler wall-clock
triggers minutes apart, which a test bounded in rounds (not wall time) cannot drive; a
``run-once`` at an advancing ``--now`` runs the same cycle (sync, plan, execute).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from syncd.outbox.email import key_digest
from syncd.store import open_store
from tests.contract.adapters import Adapter
from tests.contract.conftest import FULL_LADDER, PROVIDERS, adapter_for
from tests.outbox.test_crash import Outcome, World, outcome
from tests.support.smtp import smtp_server

ROUNDS = 8
#: syncd's HTTP timeout in this run; an injected ``timeout`` holds the answer longer than it.
CLIENT_TIMEOUT = 2.0
#: Per provider: the seed, the first ``--now`` (a Tuesday inside the send window, a day after
#: the sandbox starts), sandbox settings and syncd's connector options.
SCENARIOS: dict[str, dict[str, Any]] = {
    "quickbooks": {
        "seed": 41,
        "invoices": 24,
        "now": datetime(2026, 11, 3, 17, 0, tzinfo=UTC),
        "sandbox": {"rate_limit_per_minute": 100_000},
        "options": {"timeout_seconds": CLIENT_TIMEOUT},
    },
    "xero": {
        "seed": 43,
        "invoices": 8,
        "now": datetime(2026, 5, 5, 9, 30, tzinfo=UTC),
        "sandbox": {"minute_limit": 100_000, "day_limit": 1_000_000},
        "options": {"timeout_seconds": CLIENT_TIMEOUT},
    },
}

#: (label, the sandbox's fault kind, its settings); ``expired_token`` goes through the token
#: control endpoint instead. A stale SyncToken can only meet an invoice update: it is armed
#: every round (``STANDING``), as the others are dealt.
FAULTS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "quickbooks": [
        ("500", "http_500", {}),
        ("503", "http_503", {}),
        ("429", "http_429", {}),
        ("timeout", "timeout", {"seconds": CLIENT_TIMEOUT + 0.6}),
        ("dropped", "timeout", {"seconds": 0}),
        ("dropped after commit", "timeout", {"seconds": 0, "commit": True}),
        ("malformed json", "malformed_json", {}),
    ],
    "xero": [
        ("500", "500", {}),
        ("503", "503", {}),
        ("429", "429", {"problem": "minute", "retry_after": 5}),
        ("timeout", "timeout", {"seconds": CLIENT_TIMEOUT + 0.6}),
        ("dropped after commit", "lost", {}),
        ("malformed json", "malformed", {}),
    ],
}


STANDING: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "quickbooks": [("stale synctoken", "stale_synctoken", {"method": "POST", "path": "/invoice"})],
    "xero": [],
}


def _default(cls: Any, name: str, value: Any) -> None:
    cls.__init__.__kwdefaults__[name] = value


def control(adapter: Adapter) -> Any:
    """The sandbox's control client (each adapter has one; the base class does not say)."""
    return cast(Any, adapter).control


def _fake_waits(adapter: Adapter) -> None:
    """In the child: the connectors' sleeps move the sandbox clock instead of the process."""
    from connectors.quickbooks.client import QuickBooksConnector
    from connectors.xero.client import XeroConnector

    offset = [0.0]

    def sleep(seconds: float) -> None:
        if seconds > 0:
            offset[0] += seconds
            adapter.advance(seconds)

    def monotonic() -> float:
        return time.monotonic() + offset[0]

    _default(QuickBooksConnector, "sleep", sleep)
    _default(XeroConnector, "sleep", sleep)
    _default(XeroConnector, "monotonic", monotonic)
    from connectors.quickbooks.auth import RateLimiter

    _default(RateLimiter, "monotonic", monotonic)


def _child(adapter: Adapter, config: str, now: str, log: str) -> None:
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    _fake_waits(adapter)
    from syncd.cli.app import app

    try:
        app(["--config", config, "--now", now, "--log-format", "json", "run-once"])
    except SystemExit as exc:
        os._exit(int(exc.code or 0))
    os._exit(0)


def run_once(world: World, adapter: Adapter, now: datetime, log: Path) -> int:
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_child, args=(adapter, str(world.config), now.isoformat(), str(log)))
    proc.start()
    proc.join(120)
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise AssertionError(f"run-once hung:\n{log.read_text()[-3000:]}")
    return int(proc.exitcode or 0)


def make_world(tmp: Path, provider: str) -> Iterator[tuple[World, Adapter]]:
    s = SCENARIOS[provider]
    adapter = adapter_for(provider)
    adapter.now = s["now"] - timedelta(days=1)
    with (
        smtp_server() as (inbox, port),
        adapter.started("kind", seed=s["seed"], invoices=s["invoices"], **s["sandbox"]),
    ):
        url = f"sqlite:///{tmp}/s.db"
        email = (
            f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'from_address = "Acme Accounts <accounts@acme.test>"\n'
        )
        config = tmp / "syncd.toml"
        org = adapter.org_block(org_keys=FULL_LADDER, **s["options"])
        config.write_text(f'[store]\nurl = "{url}"\n{email}\n{org}', encoding="utf-8")
        yield World(adapter, inbox, config, url, s["now"].isoformat()), adapter


def next_business_day(day: datetime) -> datetime:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def inject(
    adapter: Adapter, rng: random.Random, deck: list[tuple[str, str, dict[str, Any]]]
) -> list[tuple[str, int]]:
    """Three faults for this round, and maybe expired access tokens; what was asked.

    Faults are dealt from a shuffled deck of every kind, so that every kind comes up."""
    asked = []
    hand = []
    for _ in range(3):
        if not deck:
            deck += rng.sample(FAULTS[adapter.provider], k=len(FAULTS[adapter.provider]))
        hand.append(deck.pop())
    for label, kind, settings in hand + STANDING[adapter.provider]:
        # A timeout holds the answer for real: one at a time keeps the run short. A stale
        # SyncToken comes three in a row (what once ended a late fee as failed).
        count = {"timeout": 1, "stale synctoken": 3}.get(label) or rng.randint(1, 2)
        if adapter.provider == "quickbooks":
            control(adapter).inject_fault(kind, count=count, **settings)
        else:
            control(adapter).add_fault(kind, count=count, skip=rng.randint(0, 4), **settings)
        asked.append((label, count))
    if rng.random() < 0.5:
        adapter.expire_access_tokens()
        asked.append(("expired token", 0))
    return asked


def collect(adapter: Adapter, asked: list[tuple[str, int]], fired: Counter[str]) -> None:
    """Count the faults that fired this round (from the sandbox), then clear the rest."""
    if adapter.provider == "quickbooks":
        rules = control(adapter)._call("GET", "faults")["faults"]
        for (label, _), rule in zip([a for a in asked if a[1]], rules, strict=True):
            fired[label] += int(rule["fired"])
    else:
        kinds = {label: kind for label, kind, _ in FAULTS["xero"]}
        left = Counter[str]()
        for fault in control(adapter).faults():
            left[fault["kind"]] += int(fault["count"])
        asked_per_label = Counter[str]()
        for label, count in asked:
            asked_per_label[label] += count
        for label, count in asked_per_label.items():
            if label in kinds:
                fired[label] += count - left[kinds[label]]
    fired["expired token"] += sum(1 for label, _ in asked if label == "expired token")
    control(adapter).clear_faults()


def unpaid(adapter: Adapter) -> list[dict[str, Any]]:
    """Invoices with something left to pay (part-paid ones too), in the sandbox's order."""
    truth = adapter.truth()["invoices"]
    if adapter.provider == "quickbooks":
        return [t for t in truth if t["status"] == "open" and Decimal(t["balance"]) > 1]
    return [
        {**t, "id": t["invoice_id"]}
        for t in truth
        if t["status"] == "AUTHORISED" and Decimal(t["amount_due"]) > 1
    ]


def editable(invoice: dict[str, Any]) -> bool:
    """Xero refuses edits to an invoice with a payment or credit note allocated to it."""
    return all(Decimal(invoice.get(f, 0)) == 0 for f in ("amount_paid", "amount_credited"))


def bookkeeper(adapter: Adapter, rng: random.Random, day: datetime, done: Counter[str]) -> None:
    """Payments and edits keep arriving while syncd works."""
    invoices = unpaid(adapter)
    for invoice in rng.sample(invoices, k=min(2, len(invoices))):
        choice = rng.random()
        if choice < 0.4:
            adapter.pay(invoice["id"])
            done["paid in full"] += 1
        elif choice < 0.7 or not editable(invoice):
            adapter.pay(invoice["id"], "1.00")
            done["part paid"] += 1
        else:
            adapter.edit_due_date(invoice["id"], (day + timedelta(days=3)).date().isoformat())
            done["due date moved"] += 1


def check(world: World, adapter: Adapter) -> Outcome:
    got = outcome(world)
    got.check_exactly_once()
    # Faults may delay an action, never fail it (a customer without email is held for review
    # before anything runs, not failed).
    assert "failed" not in got.statuses.values(), got.errors
    done = {k for k, st in got.statuses.items() if st == "done"}
    emails = {key_digest(k) for k in done if got.kinds[k] == "email"}
    assert emails, "the run must send reminder emails"
    assert set(got.smtp) == emails - {key_digest(k) for k in got.unconfirmed}
    assert sum(got.notes.values()) == sum(1 for k in done if got.kinds[k] == "note")
    assert sum(got.fee_lines.values()) == sum(1 for k in done if got.kinds[k] == "late_fee")
    store = open_store(world.store_url)
    try:
        with store.sessions() as s:
            assert adapter.mismatches(s) == []
    finally:
        store.close()
    return got


@pytest.mark.parametrize("provider", PROVIDERS)
def test_fault_run_loses_nothing_and_acts_exactly_once(tmp_path: Path, provider: str) -> None:
    rng = random.Random(f"fault-run:{provider}")
    fired: Counter[str] = Counter()
    edits: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    started = time.monotonic()
    for world, adapter in make_world(tmp_path, provider):
        log = tmp_path / "runs.log"
        day = datetime.fromisoformat(world.now)
        deck: list[tuple[str, str, dict[str, Any]]] = []
        for _ in range(ROUNDS):
            asked = inject(adapter, rng, deck)
            bookkeeper(adapter, rng, day, edits)
            codes[run_once(world, adapter, day, log)] += 1
            collect(adapter, asked, fired)
            step = next_business_day(day)
            adapter.advance((step - day).total_seconds())
            day = step
        # Clean passes, with syncd's usual HTTP timeout (a loaded machine may answer slowly);
        # the second syncs the first's writes back and finds nothing left to do.
        text = world.config.read_text(encoding="utf-8")
        world.config.write_text(
            text.replace(f"timeout_seconds = {CLIENT_TIMEOUT}", "timeout_seconds = 60"),
            encoding="utf-8",
        )
        clean = [run_once(world, adapter, day, log) for _ in range(2)]
        codes.update(clean)
        text = log.read_text()
        assert "Traceback" not in text, text[-5000:]
        assert set(codes) <= {0, 1}, (codes, text[-5000:])
        assert clean[-1] == 0, text[-5000:]
        got = check(world, adapter)
    statuses = Counter(got.statuses.values())
    # Every kind of fault met syncd at least once.
    kinds = FAULTS[provider] + STANDING[provider]
    assert set(fired) == {label for label, _, _ in kinds} | {"expired token"}, fired
    assert all(fired.values()), fired
    print(
        f"\n{provider}: {ROUNDS} rounds, {len(got.statuses)} actions {dict(statuses)}, "
        f"faults fired {dict(fired)}, edits {dict(edits)}, exits {dict(codes)}, "
        f"{time.monotonic() - started:.1f}s"
    )
