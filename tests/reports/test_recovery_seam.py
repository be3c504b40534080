"""The effectiveness report's payment plans, settlements and hand-offs, read from the tables
of migrations 0008 and 0009 (rows written here directly, with the columns the ladder fills)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.store import open_store
from syncd.store.ladder import Handoff
from syncd.store.models import Org, PaymentPlan, Settlement
from tests.reports import history as h


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=UTC)


PLANS = [
    ("completed", "2026-03-01"),
    ("broken", "2026-04-01"),
    ("broken", "2026-04-20"),
    ("active", "2026-05-01"),
    ("completed", "2025-11-01"),
]
SETTLEMENTS = [
    ("met", "USD", "500.00", "400.00", "2026-03-10"),
    ("met", "EUR", "260.50", "200.00", "2026-04-10"),
    ("lapsed", "USD", "300.00", "250.00", "2026-04-11"),
    ("met", "USD", "120.00", "100.00", "2026-05-05"),
    ("met", "USD", "90.00", "80.00", "2025-12-01"),
]
HANDOFFS = ["2026-02-01", "2026-06-01", "2025-10-01"]


def test_plans_settlements_and_handoffs_are_counted(tmp_path: Path, store_url: str) -> None:
    path = h.write_config(tmp_path, store_url)
    store = open_store(load_config(path).store_url)
    try:
        org_id = org_id_for(store, load_config(path), h.ORG, FixedClock(at("2026-06-30")))
        with store.sessions.begin() as session:
            other = Org(name="another-org", connector="quickbooks", created_at=at("2026-01-01"))
            session.add(other)
            session.flush()

            def plan(org: int, status: str, day: str) -> PaymentPlan:
                return PaymentPlan(
                    org_id=org,
                    customer_provider_id="c1",
                    currency="USD",
                    every="month",
                    amount=Decimal("100.00"),
                    status=status,
                    created_at=at(day),
                    actor="test",
                )

            session.add_all([plan(org_id, s, d) for s, d in PLANS])
            session.add(plan(other.id, "broken", "2026-03-03"))
            session.add_all(
                Settlement(
                    org_id=org_id,
                    invoice_provider_id=f"i{n}",
                    customer_provider_id="c1",
                    currency=c,
                    balance=Decimal(b),
                    agreed_amount=Decimal(a),
                    status=s,
                    pay_by=at(d).date(),
                    created_at=at(d),
                    actor="test",
                )
                for n, (s, c, b, a, d) in enumerate(SETTLEMENTS)
            )
            session.add_all(
                Handoff(
                    org_id=org_id,
                    customer_provider_id="c1",
                    agency="Agency",
                    invoice_ids=[],
                    currency="USD",
                    balance=Decimal("1.00"),
                    known_payments=[],
                    archive_path="case.zip",
                    actor="test",
                    created_at=at(d),
                )
                for d in HANDOFFS
            )
    finally:
        store.close()
    result = CliRunner().invoke(
        app,
        [
            "--config",
            str(path),
            "--now",
            "2026-06-30T18:00:00+00:00",
            "report",
            "effectiveness",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["orgs"][h.ORG]["recovery"]
    in_period = lambda d: "2026-01-01" <= d <= "2026-06-30"  # noqa: E731
    assert got["plans_kept"] == sum(1 for s, d in PLANS if s == "completed" and in_period(d))
    assert got["plans_broken"] == sum(1 for s, d in PLANS if s == "broken" and in_period(d))
    assert got["plans_broken"] == 2  # the other org's broken plan is not ours
    met = [x for x in SETTLEMENTS if x[0] == "met" and in_period(x[4])]
    assert got["settlements"] == len(met) == 3
    written: dict[str, Decimal] = {}
    for _s, cur, bal, agreed, _d in met:
        written[cur] = written.get(cur, Decimal(0)) + Decimal(bal) - Decimal(agreed)
    assert {k: Decimal(v) for k, v in got["written_off"].items()} == written
    assert got["written_off"] == {"EUR": "60.50", "USD": "120.00"}
    assert got["handoffs"] == sum(1 for d in HANDOFFS if in_period(d))
    assert any("1 agreed in the period still running" in n for n in got["notes"])
    table = CliRunner().invoke(
        app,
        [
            "--config",
            str(path),
            "--now",
            "2026-06-30T18:00:00+00:00",
            "report",
            "effectiveness",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
        ],
    )
    assert (
        "payment plans kept 1, broken 2; settlements 3, written off (60.50 EUR, 120.00 USD); "
        "hand-offs 2" in table.stdout
    )
