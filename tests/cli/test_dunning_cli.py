"""``plan``, ``simulate``, ``policy explain`` and holds, on a store backfilled from each
provider's sandbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.store.models import AuditEntry, Hold
from tests.contract.conftest import FULL_LADDER, PROVIDERS, World, make_world

runner = CliRunner()


@dataclass
class Bench:
    world: World
    org: str
    #: A day after the sandbox's start: syncd's "now" for these commands.
    now: str
    today: str
    two_months_ago: str

    @property
    def config(self) -> Any:
        return self.world.config

    @property
    def store(self) -> Any:
        return self.world.store


@pytest.fixture(params=PROVIDERS)
def backfilled(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[Bench]:
    for world in make_world(
        tmp_path, store_url, str(request.param), "kind", invoices=120, org_keys=FULL_LADDER
    ):
        world.syncer().backfill()
        now = world.adapter.now + timedelta(days=1)
        while now.weekday() >= 5:  # a closed day plans nothing: the next working day
            now += timedelta(days=1)
        yield Bench(
            world,
            world.org,
            now.isoformat(),
            now.date().isoformat(),
            (now - timedelta(days=63)).date().isoformat(),
        )


def cli(bench: Bench, *args: str) -> Any:
    result = runner.invoke(app, ["--config", str(bench.config.path), "--now", bench.now, *args])
    assert result.exit_code == 0, result.output
    return result


def plan_json(bench: Bench, *extra: str) -> list[dict[str, Any]]:
    return list(json.loads(cli(bench, "plan", "--json", *extra).stdout))


def test_plan_json_has_the_documented_fields(backfilled: Bench) -> None:
    actions = plan_json(backfilled)
    assert actions, "the seeded company has overdue invoices"
    for action in actions:
        for key in (
            "org",
            "invoice",
            "customer",
            "step",
            "action",
            "amount",
            "currency",
            "scheduled_for",
            "reason",
        ):
            assert key in action
        assert action["org"] == backfilled.org and action["reason"]
    fees = [a for a in actions if a["action"] == "late_fee"]
    assert fees and all(a["currency"] and "." in a["amount"] for a in fees)
    # Read-only: planning twice gives the same plan and writes no dunning state.
    assert plan_json(backfilled) == actions


def test_pause_dispute_and_resume_change_the_plan_and_are_audited(backfilled: Bench) -> None:
    actions = plan_json(backfilled)
    target = next(a for a in actions if a["invoice"])["invoice"]["provider_id"]

    def touches(acts: list[dict[str, Any]]) -> bool:
        return any(
            (a["invoice"] or {}).get("provider_id") == target
            or any(i["provider_id"] == target for i in a["invoices"])
            for a in acts
        )

    assert touches(actions)
    cli(
        backfilled,
        "pause",
        "--org",
        backfilled.org,
        "--invoice",
        target,
        "--until",
        "2027-12-31",
        "--reason",
        "promised to pay",
        "--by",
        "jane",
    )
    assert not touches(plan_json(backfilled))
    org = backfilled.org
    cli(backfilled, "resume", "--org", org, "--invoice", target, "--by", "jane")
    cli(backfilled, "dispute", "--org", org, "--invoice", target, "--reason", "wrong amount")
    assert not touches(plan_json(backfilled))
    with backfilled.store.sessions() as s:
        holds = s.scalars(select(Hold).order_by(Hold.id)).all()
        events = [e.event for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [(h.kind, h.actor) for h in holds][:1] == [("pause", "jane")]
    assert holds[0].released_at is not None and holds[1].released_at is None
    assert [e for e in events if e.startswith("hold.")] == [
        "hold.pause",
        "hold.resume",
        "hold.dispute",
    ]


def test_hold_errors_exit_2(backfilled: Bench) -> None:
    result = runner.invoke(
        app,
        [
            "--config",
            str(backfilled.config.path),
            "pause",
            "--org",
            backfilled.org,
            "--invoice",
            "nope",
            "--until",
            "2026-12-31",
        ],
    )
    assert result.exit_code == 2 and "no invoice with number or provider id 'nope'" in result.output


def test_simulate_reports_totals_and_compares_policies(backfilled: Bench) -> None:
    b = backfilled
    args = ("simulate", "--from", b.two_months_ago, "--to", b.today, "--json")
    standard = json.loads(cli(b, *args).stdout)[b.org]["policies"]["configured"]
    gentle = json.loads(cli(b, *args, "--policy", "gentle").stdout)[b.org]["policies"]["gentle"]
    assert standard["timeline"] and standard["overall"]["emails"] > 0
    assert standard["overall"] != gentle["overall"]
    assert gentle["policy"] == "gentle"
    # Several policies in one run: the same history, side by side, each as if run alone.
    both = json.loads(cli(b, *args, "--policy", "gentle", "--policy", "standard").stdout)[b.org]
    assert list(both["policies"]) == ["gentle", "standard"]
    assert both["policies"]["gentle"]["overall"] == gentle["overall"]
    assert "not modelled" in both["note"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_simulate_before_go_live_replays_as_if_live_from_the_first_day(
    provider: str, tmp_path: Path, store_url: str
) -> None:
    """A new org (go-live = its first backfill, today) choosing a policy: a replay of the
    last two months must show what each policy would have done over them, not nothing
    until today for every policy alike."""
    for world in make_world(
        tmp_path, store_url, provider, "kind", invoices=120, org_keys='review = "off"\n'
    ):
        world.syncer().backfill()
        now = world.adapter.now + timedelta(days=1)
        b = Bench(world, world.org, now.isoformat(), now.date().isoformat(), "")
        start = (now - timedelta(days=63)).date()
        args = ("simulate", "--from", start.isoformat(), "--to", b.today)
        both = json.loads(cli(b, *args, "--policy", "gentle", "--policy", "firm", "--json").stdout)
        body = both[b.org]
        runs = body["policies"]
        first_week = (start + timedelta(days=7)).isoformat()
        for name in ("gentle", "firm"):
            days = {a["day"] for a in runs[name]["timeline"]}
            assert days and min(days) <= first_week, f"{name} did nothing in the first week"
        assert runs["gentle"]["comparison"] != runs["firm"]["comparison"]
        firm_charged = runs["firm"]["comparison"]["per_currency"].values()
        assert any(Decimal(c["charged"]) for c in firm_charged)
        assert body["go_live"]["assumed"] is True
        assert body["go_live"]["replayed"] == start.isoformat()
        assert body["go_live"]["org"] is not None and body["go_live"]["org"] > start.isoformat()
        text = " ".join(cli(b, *args, "--policy", "firm").stdout.split())
        assert f"Replayed as if syncd had gone live on {start.isoformat()}" in text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plan_before_any_backfill_says_there_is_nothing_to_plan_from(
    provider: str, tmp_path: Path, store_url: str
) -> None:
    for world in make_world(tmp_path, store_url, provider, "kind", invoices=40):
        b = Bench(world, world.org, world.adapter.now.isoformat(), "", "")
        said = " ".join(cli(b, "plan").stdout.split())
        assert "0 action(s) planned" in said
        assert f"no backfill of this org has completed (`syncd backfill --org {b.org}`" in said
        world.syncer().backfill()
        assert "no backfill" not in cli(b, "plan").stdout


def test_simulate_after_go_live_keeps_the_org_s_own(backfilled: Bench) -> None:
    b = backfilled
    body = json.loads(
        cli(b, "simulate", "--from", b.two_months_ago, "--to", b.today, "--json").stdout
    )[b.org]
    assert body["go_live"] == {"org": "2024-01-01", "replayed": "2024-01-01", "assumed": False}
    text = " ".join(cli(b, "simulate", "--from", b.two_months_ago, "--to", b.today).stdout.split())
    assert "Go-live 2024-01-01" in text and "as if syncd" not in text


def test_policy_explain_in_words(backfilled: Bench) -> None:
    text = cli(backfilled, "policy", "explain", "standard").stdout
    assert "Policy 'standard'" in text and "late fee" in text.lower()
    invoice = plan_json(backfilled)[0]
    pid = (invoice["invoice"] or {"provider_id": invoice["invoices"][0]["provider_id"]})[
        "provider_id"
    ]
    why = cli(
        backfilled,
        *("policy", "explain", "--org", backfilled.org, "--invoice", pid),
        *("--as-of", backfilled.today),
    ).stdout
    assert why.strip()


def _at(bench: Bench, hour: int) -> str:
    """``hour``:00 in the org's own timezone on the bench's working day."""
    tz = ZoneInfo(bench.config.settings.org(bench.org).timezone)
    day = datetime.fromisoformat(bench.now).astimezone(tz).date()
    return datetime.combine(day, time(hour, 0), tzinfo=tz).isoformat()


def _said(bench: Bench, now: str, *args: str) -> str:
    result = runner.invoke(app, ["--config", str(bench.config.path), "--now", now, *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_after_the_send_window_plan_and_run_once_say_why_nothing_is_planned(
    backfilled: Bench,
) -> None:
    """Someone trying syncd in the evening saw "0 action(s) planned" and nothing else."""
    tz = backfilled.config.settings.org(backfilled.org).timezone
    day = date.fromisoformat(backfilled.today)
    after = day + timedelta(days=1)
    while after.weekday() >= 5:
        after += timedelta(days=1)
    morning = _said(backfilled, _at(backfilled, 10), "plan")
    assert "nothing is planned" not in morning and "0 action(s) planned" not in morning
    evening = _at(backfilled, 20)
    said = _said(backfilled, evening, "plan")
    assert "0 action(s) planned" in said
    head = (
        f"{backfilled.org}: nothing is planned on {day.isoformat()}: today's send window "
        f"(09:00-17:00 {tz}) has closed. The next open day is {after.isoformat()}; "
    )
    assert head in said
    waiting = re.search(r"; (\d+) invoices? due wait for it; ", said)
    assert waiting is not None and int(waiting.group(1)) > 0
    assert f"`syncd plan --as-of {after.isoformat()}` shows what that day's cycle will do" in said
    # run-once (here --dry-run: it syncs and plans, sends nothing) says the same below its table.
    assert head in _said(backfilled, evening, "run-once", "--dry-run")
    runs = json.loads(_said(backfilled, evening, "run-once", "--dry-run", "--json"))
    assert runs[0]["cycle"]["deferral"]["until"] == after.isoformat()
