"""A/B experiments end to end on a sandbox: backfill, the cycle assigns two arms and
records them (with audit entries), the arms stay put across cycles and new customers, the
candidate arm is dunned under the candidate policy, and ``syncd report experiment`` gives
the figures an independent computation from the store gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from statistics import fmean, median

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from policies.experiments import assign_arm
from syncd.cli.app import app
from syncd.connections import org_id_for
from syncd.dunning.cycle import run_cycle
from syncd.dunning.planning import plan_org
from syncd.experiments.report import MIN_PAID, experiment_report
from syncd.store.models import AuditEntry, Customer, ExperimentAssignment, Invoice, Payment
from tests.contract.conftest import FULL_LADDER, PROVIDERS, World, make_world

RULES = """
[[dunning.rules]]
name = "ab"
policy = "standard"
experiment = { policy = "firm", share = 0.5, seed = "2026-q4" }
"""


@pytest.fixture(params=PROVIDERS[:1])
def world(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[World]:
    yield from make_world(
        tmp_path,
        store_url,
        str(request.param),
        "kind",
        invoices=60,
        org_keys=FULL_LADDER,
        extra_config=RULES,
    )


def arms(world: World) -> dict[str, str]:
    with world.store.sessions() as s:
        rows = s.scalars(select(ExperimentAssignment)).all()
        return {r.customer_provider_id: r.arm for r in rows}


def independent_figures(world: World, org_id: int) -> dict[str, tuple[int, list[float]]]:
    """Counted invoices and days to payment per arm, walking ORM objects."""
    out: dict[str, tuple[int, list[float]]] = {"control": (0, []), "candidate": (0, [])}
    with world.store.sessions() as s:
        assigned = {
            a.customer_provider_id: a
            for a in s.scalars(
                select(ExperimentAssignment).where(ExperimentAssignment.org_id == org_id)
            )
        }
        last_paid: dict[str, object] = {}
        for p in s.scalars(select(Payment).where(Payment.org_id == org_id)):
            if p.deleted or p.date is None:
                continue
            for alloc in p.allocations:
                prev = last_paid.get(alloc.invoice_provider_id)
                if prev is None or p.date > prev:  # type: ignore[operator]
                    last_paid[alloc.invoice_provider_id] = p.date
        for inv in s.scalars(select(Invoice).where(Invoice.org_id == org_id)):
            a = assigned.get(inv.customer_provider_id)
            if a is None or inv.due_date is None or inv.status not in ("open", "paid"):
                continue
            paid = last_paid.get(inv.provider_id)
            closed = inv.status == "paid" or inv.balance <= 0
            if closed and (paid is None or paid < a.assigned_at.date()):  # type: ignore[operator]
                continue
            n, days = out[a.arm]
            if closed:
                days = [*days, float((paid - inv.due_date).days)]  # type: ignore[operator]
            out[a.arm] = (n + 1, days)
    return out


def test_arms_are_assigned_once_recorded_and_reported(world: World) -> None:
    world.syncer().backfill()
    org_id = org_id_for(world.store, world.config, world.org, world.clock)
    now = world.clock.now()
    # a read-only plan records nothing, and shows the arms the cycle will record: the
    # candidate arm planned under the candidate policy, the control arm under its own
    with world.store.sessions() as s:
        result = plan_org(s, world.config, world.org, org_id, now)
    assert arms(world) == {}
    planned = {d.customer_id: d.policy for d in result.decisions if d.policy is not None}
    run_cycle(world.store, world.config, world.org, org_id, now)
    first = arms(world)
    assert set(first.values()) == {"control", "candidate"}, first
    for customer, arm in first.items():
        assert arm == assign_arm("2026-q4", world.org, customer, Decimal("0.5")).value
    assert planned and set(planned) <= set(first)
    for customer, policy in planned.items():
        assert policy == ("firm" if first[customer] == "candidate" else "standard")
    assert {first[c] for c in planned} == {"control", "candidate"}
    with world.store.sessions() as s:
        audited = s.scalars(select(AuditEntry).where(AuditEntry.event == "experiment.assigned"))
        assert sorted(e.subject_id or "" for e in audited) == sorted(first)

    # some invoices get paid; a new customer arrives; the arms already made never move
    for inv in world.adapter.open_invoices()[:6]:
        world.adapter.pay(inv["id"])
    world.syncer().sync()
    with world.store.sessions.begin() as s:
        template = s.scalars(select(Customer).where(Customer.org_id == org_id)).first()
        assert template is not None
        s.add(
            Customer(
                org_id=org_id, provider_id="NEW-1", name="New Ltd", email="a@new.example",
                provider_updated_at=now, fingerprint="x", raw={}, synced_at=now,
            )
        )  # fmt: skip
        s.add(
            Invoice(
                org_id=org_id, provider_id="NEW-INV-1", number="N1", customer_provider_id="NEW-1",
                issue_date=now.date() - timedelta(days=40),
                due_date=now.date() - timedelta(days=10),
                currency="GBP", total=Decimal("100"), balance=Decimal("100"), status="open",
                provider_updated_at=now, fingerprint="x", raw={}, synced_at=now,
            )
        )  # fmt: skip
    run_cycle(world.store, world.config, world.org, org_id, now + timedelta(days=1))
    second = arms(world)
    assert {c: a for c, a in second.items() if c in first} == first
    assert second["NEW-1"] == assign_arm("2026-q4", world.org, "NEW-1", Decimal("0.5")).value

    # the report against an independent computation from the store
    with world.store.sessions() as s:
        report = experiment_report(s, org_id, "ab")
    expected = independent_figures(world, org_id)
    paid_total = 0
    for arm, (n, days) in expected.items():
        summary = report.arms[arm]
        assert (summary.invoices, summary.paid) == (n, len(days))
        assert summary.mean_days == (pytest.approx(fmean(days)) if days else None)
        assert summary.median_days == (median(days) if days else None)
        paid_total += len(days)
    assert paid_total >= 1  # the payments made above count
    assert report.customers["control"] + report.customers["candidate"] == len(second)
    if min(len(d) for _n, d in expected.values()) < MIN_PAID:
        assert report.verdict.startswith("Not enough data to tell")

    runner = CliRunner()
    base = ["--config", str(world.config.path), "--now", (now + timedelta(days=1)).isoformat()]
    out = runner.invoke(app, [*base, "report", "experiment", "ab", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"org": world.org, **report.to_dict()}
    page = world.config.path.parent / "report.html"
    html = runner.invoke(app, [*base, "report", "html", "--out", str(page)])
    assert html.exit_code == 0, html.output
    text = page.read_text(encoding="utf-8")
    assert f"{world.org}: ab" in text and "No policy experiments are recorded" not in text
    for arm in ("control", "candidate"):  # each arm's sample size, as the report gives it
        assert str(report.arms[arm].invoices) in text
    with world.store.sessions() as s:
        candidate_invoice = s.scalars(
            select(Invoice.provider_id).where(
                Invoice.status == "open",
                Invoice.customer_provider_id.in_(
                    [c for c, a in second.items() if a == "candidate"]
                ),
            )
        ).first()
    assert candidate_invoice is not None
    why = runner.invoke(app, [*base, "policy", "explain", "--invoice", candidate_invoice])
    assert why.exit_code == 0, why.output
    assert "policy 'firm' chosen by rule 'ab'" in why.stdout and "candidate arm" in why.stdout
    bad = runner.invoke(app, [*base, "report", "experiment", "nope"])
    assert bad.exit_code == 2 and "no experiment 'nope'" in bad.stderr and "ab" in bad.stderr
