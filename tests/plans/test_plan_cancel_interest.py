"""A plan cancelled by hand under ``interest_during_plan = false`` waives the interest of the
days it was agreed for (agreement day to the cancelling day, both included), as a broken
plan does; the interest from before the plan stays claimable (no zero claim hides it)."""

from __future__ import annotations

from sqlalchemy import select

from syncd.store.models import DunningState, Hold
from tests.plans.conftest import LadderWorld, days_from


def test_cancelling_a_plan_waives_only_its_own_days(ladder: LadderWorld) -> None:
    ladder.use_plan_settings("interest_during_plan = false\n")
    customer, (invoice,) = ladder.debtor()
    agreed = ladder.today()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "3", "--every", "month",
        "--first", days_from(agreed, 2),
    )  # fmt: skip
    ladder.cli("run-once", ok=False)
    ladder.advance_days(3)
    cancelled_on = ladder.today()
    assert cancelled_on > agreed
    shown = ladder.cli_json(
        "payment-plan", "cancel", str(plan["id"]), "--org", ladder.org, "--reason", "by phone"
    )
    assert shown["status"] == "cancelled"
    with ladder.w.store.sessions() as s:
        state = s.get(DunningState, invoice.id)
        assert state is not None
        meta, claims = state.state["meta"], state.state["interest"]
        holds = s.scalars(select(Hold).where(Hold.provider_id == invoice.provider_id)).all()
    assert meta[f"interest-waived:plan/{plan['id']}"] == f"{agreed}/{cancelled_on}"
    assert not [c for c in claims if c["step_id"].startswith("payment-plan-")]
    assert holds and all(h.released_at is not None for h in holds)  # dunning resumes
