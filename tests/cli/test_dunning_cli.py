"""``plan``, ``simulate``, ``policy explain`` and holds, on a store backfilled from the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.store.models import AuditEntry, Hold
from tests.connectors.quickbooks.conftest import Bench, make_bench

runner = CliRunner()


@pytest.fixture
def backfilled(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    for bench in make_bench(tmp_path, store_url, invoices=120):
        bench.syncer().backfill()
        yield bench


def cli(bench: Bench, *args: str) -> Any:
    result = runner.invoke(
        app, ["--config", str(bench.config.path), "--now", "2026-11-03T17:00:00+00:00", *args]
    )
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
        assert action["org"] == "qbo" and action["reason"]
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
        "qbo",
        "--invoice",
        target,
        "--until",
        "2026-12-31",
        "--reason",
        "promised to pay",
        "--by",
        "jane",
    )
    assert not touches(plan_json(backfilled))
    cli(backfilled, "resume", "--org", "qbo", "--invoice", target, "--by", "jane")
    cli(backfilled, "dispute", "--org", "qbo", "--invoice", target, "--reason", "wrong amount")
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
            "qbo",
            "--invoice",
            "nope",
            "--until",
            "2026-12-31",
        ],
    )
    assert result.exit_code == 2 and "no invoice 'nope'" in result.output


def test_simulate_reports_totals_and_compares_policies(backfilled: Bench) -> None:
    args = ("simulate", "--from", "2026-09-01", "--to", "2026-11-01", "--json")
    standard = json.loads(cli(backfilled, *args).stdout)["qbo"]
    gentle = json.loads(cli(backfilled, *args, "--policy", "gentle").stdout)["qbo"]
    assert standard["timeline"] and standard["overall"]["emails"] > 0
    assert standard["overall"] != gentle["overall"]
    assert gentle["policy"] == "gentle"


def test_policy_explain_in_words(backfilled: Bench) -> None:
    text = cli(backfilled, "policy", "explain", "standard").stdout
    assert "Policy 'standard'" in text and "late fee" in text.lower()
    invoice = plan_json(backfilled)[0]
    pid = (invoice["invoice"] or {"provider_id": invoice["invoices"][0]["provider_id"]})[
        "provider_id"
    ]
    why = cli(
        backfilled, "policy", "explain", "--org", "qbo", "--invoice", pid, "--as-of", "2026-11-03"
    ).stdout
    assert why.strip()


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--invoices", "60"])
    assert result.exit_code == 0, result.output
    assert "backfill:" in result.output and "action(s) planned" in result.output
    listed = runner.invoke(
        app, ["--config", str(tmp_path / "demo" / "syncd.toml"), "invoices", "--json", "--open"]
    )
    assert listed.exit_code == 0 and json.loads(listed.stdout)
