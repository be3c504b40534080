"""``plan``, ``actions`` and ``review`` at a fixed width of 80 columns on a backfilled sandbox
company: no invoice number, action or amount is cut, customers are named, and the detail views
(``actions show``, ``policy explain --invoice --json``) carry what the tables leave out.
Invoice references by number or provider id, and ambiguous ones, on the same store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from syncd.cli.app import app
from syncd.store.models import Hold, Invoice
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server

runner = CliRunner()
WIDTH = 80


@pytest.fixture(params=["quickbooks", "xero"])
def world(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world(request.param, tmp_path, store_url, port, inbox)


def at_80(world: World, *args: str, ok: bool = True) -> Result:
    result = runner.invoke(
        app,
        ["--config", str(world.config.path), "--now", world.now().isoformat(), *args],
        env={"COLUMNS": str(WIDTH)},
    )
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(world: World, *args: str) -> Any:
    return json.loads(at_80(world, *args, "--json").stdout)


def fits(text: str) -> list[str]:
    lines = text.splitlines()
    too_wide = [line for line in lines if len(line) > WIDTH]
    assert not too_wide, "\n".join(too_wide)
    return lines


def on_one_line(lines: list[str], *cells: str) -> bool:
    """Every cell whole, on one line, as separate words (not the start of a longer one)."""
    return any(all(f" {c} " in f" {line} " for c in cells if c) for line in lines)


def test_plan_actions_and_review_fit_80_columns(world: World) -> None:
    planned = as_json(world, "plan")
    assert planned, "the seeded company has overdue invoices"
    lines = fits(at_80(world, "plan").stdout)
    named = 0
    for a in planned:
        numbers = [i["number"] for i in a["invoices"]] or [a["invoice"]["number"]]
        amount = f"{a['amount']} {a['currency']}" if a["amount"] else ""
        if not amount and len({i["currency"] for i in a["invoices"]}) == 1:  # an email's demand
            total = sum(Decimal(i["balance"]) for i in a["invoices"])
            amount = f"{total} {a['invoices'][0]['currency']}"
        assert on_one_line(lines, numbers[0], a["action"], amount), (numbers, a["action"], amount)
        assert all(on_one_line(lines, n) for n in numbers)
        assert a["customer_name"], "the plan names the customer"
        named += on_one_line(lines, a["customer_name"])
    assert named, "customer names, not ids, are shown"

    queued = as_json(world, "run-once")
    assert queued[0]["org"] == world.org and queued[0]["cycle"]["held"] > 0
    summary = at_80(world, "run-once")
    assert "run-once" in summary.stdout  # the human summary is on stdout now

    actions = as_json(world, "actions")
    assert actions and all(a["status"] == "awaiting_review" for a in actions)
    lines = fits(at_80(world, "actions").stdout)
    for a in actions:
        amount = f"{a['amount']} {a['currency']}" if a["amount"] is not None else ""
        assert on_one_line(lines, str(a["id"]), a["numbers"][0], a["kind"], amount), a
        assert all(on_one_line(lines, n) for n in a["numbers"])

    waiting = as_json(world, "review")
    lines = at_80(world, "review").stdout.splitlines()
    for d in waiting:
        amount = f"{d['amount']} {d['currency']}" if d["amount"] is not None else ""
        head = [line for line in lines if line.startswith(f"  #{d['id']} ")]
        assert head and len(head[0]) <= WIDTH and on_one_line(head, d["kind"], amount)
        for invoice in d["invoices"]:
            assert f"{invoice['number']}" in " ".join(lines).replace(",", " ").split()


def test_actions_show_is_the_detail_view(world: World) -> None:
    world.cli("run-once")
    first = as_json(world, "actions")[0]
    detail = as_json(world, "actions", "show", str(first["id"]))
    assert detail["id"] == first["id"] and detail["why"] and detail["payload"]["reason"]
    assert [h["event"] for h in detail["history"]] == ["action.planned"], detail["history"]
    world.cli("review", "approve", str(first["id"]), "--by", "jane")
    history = as_json(world, "actions", "show", str(first["id"]))["history"]
    assert len(history) == 2 and history[1]["actor"] == "jane"
    text = at_80(world, "actions", "show", str(first["id"])).stdout
    assert detail["why"] in text and "history:" in text and "payload:" in text
    missing = at_80(world, "actions", "show", "999999", ok=False)
    assert missing.exit_code == 2 and "no action 999999" in missing.output


def test_invoices_by_number_or_id_and_ambiguous_references(world: World) -> None:
    planned = as_json(world, "plan")
    target = next(a["invoice"] for a in planned if a["invoice"])
    number, pid = target["number"], target["provider_id"]
    assert number != pid
    for ref in (number, pid):
        why = as_json(world, "policy", "explain", "--org", world.org, "--invoice", ref)
        assert why["invoice"] == {"provider_id": pid, "number": number} and why["text"]
    paused = at_80(world, "pause", "--org", world.org, "--invoice", number, "--until", "2099-01-01")
    assert f"paused invoice {number} (provider id {pid})" in paused.stdout
    with world.store.sessions() as session:
        hold = session.scalars(select(Hold)).one()
        assert hold.provider_id == pid  # stored against the id, which never changes
    resumed = at_80(world, "resume", "--org", world.org, "--invoice", pid)
    assert "1 hold(s) released" in resumed.stdout

    # Another invoice whose number is this one's provider id: that reference is ambiguous.
    with world.store.sessions.begin() as session:
        other = session.scalars(
            select(Invoice).where(Invoice.provider_id != pid).order_by(Invoice.id)
        ).first()
        assert other is not None
        other_pid = other.provider_id
        other.number = pid
    for command in (
        ("pause", "--org", world.org, "--invoice", pid, "--until", "2099-01-01"),
        ("policy", "explain", "--org", world.org, "--invoice", pid),
        ("preview", "--org", world.org, "--invoice", pid),
    ):
        result = at_80(world, *command, ok=False)
        assert result.exit_code == 2 and "Traceback" not in result.output
        out = result.output.replace("\n", " ")
        assert "ambiguous" in out and f"provider id {pid}" in out
        assert f"provider id {other_pid}" in out
    # The number still names exactly one invoice.
    assert as_json(world, "policy", "explain", "--org", world.org, "--invoice", number)
    with world.store.sessions() as session:  # the refused pause placed nothing
        holds = session.scalars(select(Hold)).all()
        assert len(holds) == 1 and holds[0].released_at is not None
