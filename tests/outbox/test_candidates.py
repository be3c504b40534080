"""Planning only the candidates (due, changed, or planned under other policies) gives exactly
the plan of planning every open invoice, cycle after cycle, while touching far fewer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from policies import plan_cycle
from syncd.connections import org_id_for
from syncd.dunning.cycle import run_cycle
from syncd.dunning.planning import org_context, plan_org_candidates
from syncd.dunning.snapshots import load_inputs
from tests.connectors.quickbooks.conftest import SANDBOX_NOW, Bench, make_bench


@pytest.fixture
def bench(tmp_path: Path, store_url: str) -> Iterator[Bench]:
    for b in make_bench(tmp_path, store_url, invoices=150):
        b.syncer().backfill()
        yield b


def test_candidates_plan_equals_full_plan_day_after_day(bench: Bench) -> None:
    config, store = bench.config, bench.store
    org_id = org_id_for(store, config, "qbo", bench.clock)
    ctx = org_context(config, "qbo")
    smaller = 0
    for day in range(40):
        as_of = SANDBOX_NOW + timedelta(days=day)
        with store.sessions() as session:
            candidates = plan_org_candidates(session, config, "qbo", org_id, as_of)
            everything = load_inputs(session, org_id, ctx.timezone)
            full = plan_cycle(
                org=ctx,
                policies=config.policies,
                settings=config.dunning["qbo"],
                as_of=as_of,
                invoices=everything,
            )
        assert [a.to_dict() for a in candidates.result.actions] == [
            a.to_dict() for a in full.actions
        ], f"day {day}"
        smaller += len(candidates.planned) < len(everything)
        if day == 12:  # a payment mid-way must make its invoice a candidate again
            invoice = next(i for i in everything if i.invoice.balance > 5)
            bench.sandbox.control.add_payment(
                [{"invoice_id": invoice.invoice.invoice_id, "amount": "1.00"}]
            )
            bench.syncer().sync()
        run_cycle(store, config, "qbo", org_id, as_of)
    assert smaller >= 30  # on most days far from every invoice needed planning
