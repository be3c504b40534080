"""The reports on a seeded QuickBooks sandbox after 45 days of syncd's own cycles, checked
against the sandbox's own records (its truth: invoices, payments and their dates), not
against syncd's store."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.store.models import OutboxAction
from tests.contract.conftest import World
from tests.reports.history import bucket
from tests.reports.seeded import seeded_history

runner = CliRunner()
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_90_plus")
DAYS = 45


@dataclass
class Seeded:
    world: World
    today: date
    start: date
    truth: dict[str, Any]
    #: invoice -> [(day done, amount)] of the fees syncd posted
    fees: dict[str, list[tuple[date, Decimal]]]
    actions: list[OutboxAction]

    def run(self, *args: str) -> str:
        now = self.world.clock.now().isoformat()
        result = runner.invoke(app, ["--config", str(self.world.config.path), "--now", now, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    # -- independent figures, from the sandbox's records --------------------------------------

    def owed(self, inv: dict[str, Any], day: date) -> Decimal:
        if date.fromisoformat(inv["txn_date"]) > day:
            return Decimal(0)
        later = sum(
            (
                Decimal(a["amount"])
                for p in self.truth["payments"]
                if date.fromisoformat(p["txn_date"]) > day
                for a in p["allocations"]
                if a["txn_type"] == "Invoice" and a["txn_id"] == inv["id"]
            ),
            Decimal(0),
        )
        fees = sum((a for d, a in self.fees.get(inv["id"], []) if d > day), Decimal(0))
        return max(Decimal(0), Decimal(inv["balance"]) + later - fees)

    def counted(self) -> list[dict[str, Any]]:
        return [i for i in self.truth["invoices"] if i["status"] in ("open", "paid")]

    def aging(self, day: date) -> dict[tuple[str, str], dict[str, Decimal]]:
        out: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for inv in self.counted():
            owed = self.owed(inv, day)
            if owed:
                late = (day - date.fromisoformat(inv["due_date"])).days
                out[(inv["customer_id"], inv["currency"])][bucket(late)] += owed
        return out

    def paid_days(self, invoice_id: str) -> list[date]:
        return sorted(
            {
                date.fromisoformat(p["txn_date"])
                for p in self.truth["payments"]
                for a in p["allocations"]
                if a["txn_type"] == "Invoice" and a["txn_id"] == invoice_id
            }
        )


@pytest.fixture
def seeded(tmp_path: Path, store_url: str) -> Iterator[Seeded]:
    with seeded_history(tmp_path, store_url, days=DAYS) as world:
        tz = ZoneInfo(world.config.settings.org(world.org).timezone)
        with world.store.sessions() as s:
            actions = list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))
            for a in actions:
                s.expunge(a)
        fees: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
        for a in actions:
            if a.kind == "late_fee" and a.status == "done":
                fees[str(a.invoice_provider_id)].append(
                    (a.updated_at.astimezone(tz).date(), Decimal(a.payload["amount"]))
                )
        today = world.clock.now().astimezone(tz).date()
        yield Seeded(
            world, today, today - timedelta(days=DAYS), world.adapter.truth(), fees, actions
        )


def check_aging_today_and_in_the_past_matches_the_sandbox(seeded: Seeded) -> None:
    assert seeded.fees, "the seeded run charged late fees"
    for day in (seeded.today, seeded.today - timedelta(days=20), seeded.start - timedelta(days=1)):
        rows = seeded.json("report", "aging", "--as-of", day.isoformat())
        want = seeded.aging(day)
        got = {(r["customer"], r["currency"]): r for r in rows}
        assert set(got) == set(want), day
        for key, row in got.items():
            for b in BUCKETS:
                assert Decimal(row[b]) == want[key].get(b, Decimal(0)), (day, key, b)
    # Payments arrived during the run: the past differs from today.
    assert seeded.aging(seeded.start - timedelta(days=1)) != seeded.aging(seeded.today)


def check_dso_matches_the_sandbox(seeded: Seeded) -> None:
    first = seeded.today - timedelta(days=150)
    rows = seeded.json(
        "report", "dso", "--from", first.isoformat(), "--to", seeded.today.isoformat()
    )
    assert rows
    for row in rows:
        start, end = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
        mine = [i for i in seeded.counted() if i["currency"] == row["currency"]]
        receivables = sum((seeded.owed(i, end) for i in mine), Decimal(0))
        sales = sum(
            (
                Decimal(i["total"])
                - sum((a for d, a in seeded.fees.get(i["id"], []) if d > end), Decimal(0))
                for i in mine
                if start <= date.fromisoformat(i["txn_date"]) <= end
            ),
            Decimal(0),
        )
        assert (Decimal(row["receivables"]), Decimal(row["sales"])) == (receivables, sales), row


def check_effectiveness_matches_the_sandbox(seeded: Seeded) -> None:
    doc = seeded.json(
        "report",
        "effectiveness",
        "--from",
        seeded.start.isoformat(),
        "--to",
        seeded.today.isoformat(),
    )
    body = doc["orgs"][seeded.world.org]
    tz = ZoneInfo(seeded.world.config.settings.org(seeded.world.org).timezone)
    first: dict[tuple[str, str], date] = {}
    for a in seeded.actions:
        if a.status != "done":
            continue
        items = a.payload.get("invoices") or (
            [{"provider_id": a.invoice_provider_id, "step": a.payload["step"]}]
            if a.invoice_provider_id
            else []
        )
        for item in items:
            key = (str(item["step"]), str(item["provider_id"]))
            on = a.updated_at.astimezone(tz).date()
            first[key] = min(first.get(key, on), on)
    invoices = {i["id"]: i for i in seeded.truth["invoices"]}
    assert body["steps"], "syncd carried out steps during the run"
    for row in body["steps"]:
        reached = {i: on for (s, i), on in first.items() if s == row["step"]}
        assert row["reached"] == len(reached)
        settled: dict[str, date | None] = {}
        for i, on in reached.items():
            days = [on] + [d for d in seeded.paid_days(i) if d > on]
            settled[i] = next((d for d in days if seeded.owed(invoices[i], d) == 0), None)
        for w in (7, 14, 30):
            watched = [i for i, on in reached.items() if (seeded.today - on).days >= w]
            paid = [i for i in watched if (s := settled[i]) and (s - reached[i]).days <= w]
            assert (row[f"paid_{w}d_count"], row[f"paid_{w}d_n"]) == (len(paid), len(watched))
    fees = body["fees"]
    charged = sum((a for v in seeded.fees.values() for _, a in v), Decimal(0))
    assert sum(Decimal(v) for v in fees["charged"].values()) == charged
    assert fees["charged_count"] == sum(len(v) for v in seeded.fees.values())
    assert any(r["paid_7d_count"] for r in body["steps"]), "some reminded customers paid"


def check_simulate_starts_from_the_state_on_from(seeded: Seeded) -> None:
    """After 45 days of real cycles, a replay from day 20 starts with what had happened by
    then, and one from before the run starts empty (as the store stood)."""
    middle = seeded.start + timedelta(days=20)
    org = seeded.world.org
    args = (
        "simulate",
        "--to",
        seeded.today.isoformat(),
        "--policy",
        "standard",
        "--policy",
        "gentle",
    )
    mid = seeded.json(*args[:1], "--from", middle.isoformat(), *args[1:])[org]
    early = seeded.json(
        *args[:1], "--from", (seeded.start - timedelta(days=3)).isoformat(), *args[1:]
    )[org]
    tz = ZoneInfo(seeded.world.config.settings.org(org).timezone)
    acted_before = {
        str(i["provider_id"])
        for a in seeded.actions
        if a.scheduled_for.astimezone(tz).date() < middle
        for i in (a.payload.get("invoices") or [{"provider_id": a.invoice_provider_id}])
        if i["provider_id"]
    }
    assert mid["start_state"]["invoices_with_steps"] == len(acted_before) > 0
    fees_before = [
        a
        for a in seeded.actions
        if a.kind == "late_fee" and a.created_at.astimezone(tz).date() < middle
    ]
    escalated_before = {
        a.invoice_provider_id
        for a in seeded.actions
        if a.kind == "escalate" and a.scheduled_for.astimezone(tz).date() < middle
    }
    assert mid["start_state"]["fee_periods_charged"] == len(fees_before) > 0
    assert mid["start_state"]["escalated"] == len(escalated_before)
    assert set(early["start_state"].values()) == {0}
    assert list(mid["policies"]) == ["standard", "gentle"]
    # Both runs see the same payments; the firmer policy charges, the gentle one does not.
    std, gentle = (mid["policies"][p]["comparison"] for p in ("standard", "gentle"))
    assert std != gentle
    assert mid["measured"] and all(m["reached"] > 0 for m in mid["measured"])
    text = seeded.run(*args[:1], "--from", middle.isoformat(), *args[1:])
    assert "not modelled" in text and "Measured after each step" in text


def test_reports_on_the_seeded_history(seeded: Seeded) -> None:
    """One history (about 15 s to build), every report checked on it."""
    check_aging_today_and_in_the_past_matches_the_sandbox(seeded)
    check_dso_matches_the_sandbox(seeded)
    check_effectiveness_matches_the_sandbox(seeded)
    check_simulate_starts_from_the_state_on_from(seeded)
