"""The ``call`` kind end to end against both sandboxes: a policy step's call becomes a task
with the provider's phone number, the open invoices, the amount overdue and the history;
``syncd tasks`` lists and shows it; ``syncd tasks done`` records the outcome, which feeds
back into dunning (a promise pauses until its date, a dispute stops it), and every bad input
gets a clear error and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from connectors.base import InvoiceStatus
from policies import Outcome, plan_cycle
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.dunning.planning import org_context
from syncd.dunning.snapshots import load_inputs
from syncd.outbox.executor import Executor
from syncd.outbox.handlers.call import CallHandler
from syncd.review.golive import go_live_for
from syncd.store.models import AuditEntry, CallTask, Customer, Hold, Invoice, OutboxAction
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server

POLICY = """
[policies.calls]
[[policies.calls.steps]]
id = "ring"
days = 1
actions = [{ kind = "call", instructions = "Ask about $number ($balance)" }]
"""


@pytest.fixture(params=["quickbooks", "xero"])
def world(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        for w in make_world(
            request.param, tmp_path, store_url, port, inbox, invoices=24,
            review='"off"', go_live="2024-01-01",
        ):  # fmt: skip
            path = w.config.path
            text = path.read_text(encoding="utf-8").replace(
                'policy = "standard"\n', 'policy = "calls"\n'
            )
            path.write_text(text + POLICY, encoding="utf-8")
            w.config = load_config(path)
            yield w


def tasks(world: World, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(world.cli("tasks", "--json", *args).stdout))


def today(world: World) -> date:
    tz = ZoneInfo(world.config.settings.org(world.org).timezone)
    return world.now().astimezone(tz).date()


def snapshot(world: World) -> tuple[int, int, list[tuple[Any, ...]]]:
    """Holds, audit entries and the tasks' columns: what a refused command must not change."""
    with world.store.sessions() as s:
        holds = s.scalar(select(func.count()).select_from(Hold)) or 0
        audit = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        rows = s.execute(
            select(CallTask.id, CallTask.status, CallTask.outcome, CallTask.until).order_by(
                CallTask.id
            )
        ).all()
    return holds, audit, [tuple(r) for r in rows]


def outcomes(world: World) -> dict[str, Outcome]:
    """The engine's decision for every open invoice now (holds included)."""
    with world.store.sessions() as s:
        org_id = org_id_for(world.store, world.config, world.org, _clock(world))
        go_live = go_live_for(s, world.config, world.org, org_id, record=False)
        ctx = org_context(world.config, world.org, go_live)
        inputs = load_inputs(s, org_id, ctx.timezone)
        result = plan_cycle(
            org=ctx,
            policies=world.config.policies,
            settings=world.config.dunning[world.org],
            as_of=world.now(),
            invoices=inputs,
        )
    return {d.invoice_id: d.outcome for d in result.decisions}


def _clock(world: World) -> Any:
    return world.bench.clock


def test_a_call_step_makes_tasks_and_their_outcomes_feed_back(world: World) -> None:
    world.cli("run-once")
    rows = [r for r in world.outbox() if r.kind == "call"]
    assert rows and {r.status for r in rows} == {"done"}, [(r.status, r.last_error) for r in rows]
    listed = tasks(world)
    assert len(listed) == len(rows)
    day = today(world)
    with world.store.sessions() as s:
        for t in listed:
            customer = s.scalar(select(Customer).where(Customer.provider_id == t["customer"]))
            assert customer is not None and t["phone"] == customer.phone
            assert t["customer_name"] == customer.name
            open_rows = s.scalars(
                select(Invoice).where(
                    Invoice.customer_provider_id == t["customer"],
                    Invoice.status == InvoiceStatus.OPEN.value,
                    Invoice.balance > 0,
                )
            ).all()
            assert {i["provider_id"] for i in t["invoices"]} == {r.provider_id for r in open_rows}
            # the amount: the customer's overdue balances in the task's currency, by hand
            overdue = sum(
                (
                    r.balance
                    for r in open_rows
                    if r.currency == t["currency"] and r.due_date is not None and r.due_date < day
                ),
                Decimal(0),
            )
            assert Decimal(t["amount"]) == overdue > 0
            assert t["instructions"].startswith("Ask about ")
    assert any(t["phone"] for t in listed), "the sandboxes' customers have phone numbers"

    # the same actions are never made into a second task: a second run queues nothing new,
    # and the handler run again for a done row (a crash before it was closed) finds its task
    world.cli("run-once")
    assert len(tasks(world)) == len(listed)
    org_id = org_id_for(world.store, world.config, world.org, _clock(world))
    executor = Executor(world.store, org_id, world.bench.connector(), now=world.now)
    again = CallHandler().execute(executor, rows[0])
    assert again["remote_id"] == rows[0].remote_id
    assert len(tasks(world)) == len(listed)

    shown = world.cli("tasks", "show", str(listed[0]["id"])).stdout
    assert "call task:" in shown and str(listed[0]["phone"] or "(none") in shown
    preview = world.cli("preview", str(rows[0].id)).stdout
    assert "call task:" in preview

    by_customer: dict[str, dict[str, Any]] = {}
    for t in listed:
        by_customer.setdefault(t["customer"], t)
    assert len(by_customer) >= 2, "the seeded company has several overdue customers"
    promise, dispute = list(by_customer.values())[:2]
    before = snapshot(world)

    # bad input: a clear error and nothing changed
    bad = [
        (["done", "999999", "--outcome", "paid"], "no call task 999999"),
        (["done", str(promise["id"]), "--outcome", "maybe"], "--outcome must be one of"),
        (["done", str(promise["id"]), "--outcome", "promise"], "needs --until"),
        (
            ["done", str(promise["id"]), "--outcome", "promise", "--until", str(day)],
            "is not after today",
        ),
        (
            ["done", str(promise["id"]), "--outcome", "promise", "--until", "next week"],
            "expected a date",
        ),
        (
            ["done", str(promise["id"]), "--outcome", "paid", "--until", str(day)],
            "--until goes only with --outcome promise",
        ),
        (["show", "999999"], "no call task 999999"),
    ]
    for args, message in bad:
        result = world.cli("tasks", *args, ok=False)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert snapshot(world) == before, args

    until = day + timedelta(days=14)
    done = world.cli(
        "tasks", "done", str(promise["id"]), "--outcome", "promise", "--until", str(until),
        "--note", "pays on the 15th", "--by", "carol",
    )  # fmt: skip
    assert "dunning paused until" in done.stdout
    again_done = world.cli("tasks", "done", str(promise["id"]), "--outcome", "paid", ok=False)
    assert again_done.exit_code == 2 and "already done" in again_done.output
    world.cli("tasks", "done", str(dispute["id"]), "--outcome", "dispute", "--note", "wrong qty")
    rest = [t for t in listed if t["id"] not in (promise["id"], dispute["id"])]
    for t, outcome in zip(rest, ["no-answer", "paid"], strict=False):
        world.cli("tasks", "done", str(t["id"]), "--outcome", outcome)

    with world.store.sessions() as s:
        holds = s.scalars(select(Hold)).all()
        closing = s.scalars(select(AuditEntry).where(AuditEntry.event == "task.done")).all()
    paused = {h.provider_id for h in holds if h.kind == "pause"}
    disputed = {h.provider_id for h in holds if h.kind == "dispute"}
    assert paused == {i["provider_id"] for i in promise["invoices"]}
    assert disputed == {i["provider_id"] for i in dispute["invoices"]}
    assert {h.until for h in holds if h.kind == "pause"} == {until}
    assert {h.actor for h in holds if h.kind == "pause"} == {"carol"}
    assert len(closing) == 2 + len(rest[:2])
    decided = outcomes(world)
    assert {decided[i] for i in paused | disputed} == {Outcome.ON_HOLD}
    # no-answer and paid leave dunning as it was: no hold on their invoices
    for t in rest[:2]:
        mine = {i["provider_id"] for i in t["invoices"]} - paused - disputed
        assert not any(decided.get(i) is Outcome.ON_HOLD for i in mine)

    final = {t["id"]: t for t in tasks(world, "--all")}
    assert final[promise["id"]]["outcome"] == "promise"
    assert final[promise["id"]]["until"] == until.isoformat()
    assert final[promise["id"]]["note"] == "pays on the 15th"
    assert final[dispute["id"]]["outcome"] == "dispute"
    assert tasks(world) == [t for t in final.values() if t["status"] == "open"]
    with world.store.sessions() as s:
        created = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.event == "task.created")
        )
        calls = s.scalar(
            select(func.count()).select_from(OutboxAction).where(OutboxAction.kind == "call")
        )
    assert created == calls == len(listed)


@pytest.fixture
def reviewed(tmp_path: Path, store_url: str) -> Iterator[World]:
    """QuickBooks with the org's review mode at its default ("all")."""
    with smtp_server() as (inbox, port):
        for w in make_world(
            "quickbooks", tmp_path, store_url, port, inbox, invoices=24, go_live="2024-01-01"
        ):
            path = w.config.path
            text = path.read_text(encoding="utf-8").replace(
                'policy = "standard"\n', 'policy = "calls"\n'
            )
            path.write_text(text + POLICY, encoding="utf-8")
            w.config = load_config(path)
            yield w


def test_a_call_waits_for_review_and_approving_it_makes_the_task(reviewed: World) -> None:
    reviewed.cli("run-once")
    calls = [r for r in reviewed.outbox() if r.kind == "call"]
    assert calls and {r.status for r in calls} == {"awaiting_review"}
    assert tasks(reviewed) == []
    held = [i for i in reviewed.review_json() if i["kind"] == "call"]
    assert len(held) == len(calls) and all(i["problem"] is None for i in held)
    first = calls[0]
    reviewed.cli("review", "approve", str(first.id), "--by", "dan")
    reviewed.cli("run-once")
    made = tasks(reviewed)
    assert [t["invoice"] for t in made] == [first.invoice_provider_id]
    assert {r.status for r in reviewed.outbox() if r.id != first.id} == {"awaiting_review"}
