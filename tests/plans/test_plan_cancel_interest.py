"""A plan cancelled by hand under ``interest_during_plan = false`` waives the interest of the
days it was agreed for (agreement day to the cancelling day, both included), as a broken
plan does; the interest from before the plan stays claimable (no zero claim hides it)."""

from __future__ import annotations

from sqlalchemy import select

from syncd.store.models import Customer, DunningState, Hold, Invoice
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


def _two_invoices(ladder: LadderWorld) -> tuple[Customer, Invoice, Invoice]:
    """A customer with two open invoices of one currency (whether ordinary dunning would
    act on them today does not matter here)."""
    with ladder.w.store.sessions() as s:
        rows = s.scalars(
            select(Invoice)
            .where(Invoice.status == "open", Invoice.balance > 5)
            .order_by(Invoice.customer_provider_id, Invoice.provider_id)
        ).all()
        by: dict[tuple[str, str], list[Invoice]] = {}
        for inv in rows:
            by.setdefault((inv.customer_provider_id, inv.currency), []).append(inv)
        for (customer_id, _), found in by.items():
            customer = s.scalar(select(Customer).where(Customer.provider_id == customer_id))
            if len(found) >= 2 and customer is not None:
                s.expunge_all()
                return customer, found[0], found[1]
    raise AssertionError("no customer with two open invoices in the seeded company")


def _window(ladder: LadderWorld, invoice_id: int, plan_id: object) -> str | None:
    with ladder.w.store.sessions() as s:
        state = s.get(DunningState, invoice_id)
        meta = state.state.get("meta", {}) if state is not None else {}
    found = meta.get(f"interest-waived:plan/{plan_id}")
    return str(found) if found is not None else None


def _open_holds(ladder: LadderWorld, invoice_id: str) -> list[Hold]:
    with ladder.w.store.sessions() as s:
        return list(
            s.scalars(
                select(Hold).where(Hold.provider_id == invoice_id, Hold.released_at.is_(None))
            )
        )


def test_resuming_an_unconfirmed_plans_invoice_ends_it_as_cancelling_would(
    ladder: LadderWorld,
) -> None:
    """An unconfirmed plan's invoices stay on hold until a person decides; ``syncd resume``
    of one of them is that decision for it: the plan's own days up to the resuming day are
    waived, as ``payment-plan cancel`` waives them, and the plan is cancelled once it holds
    nothing else (a later cancel cannot stretch the resumed invoice's window)."""
    ladder.use_plan_settings("interest_during_plan = false\n")
    customer, first, second = _two_invoices(ladder)
    agreed = ladder.today()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", first.provider_id, "--invoice", second.provider_id,
        "--instalments", "3", "--every", "month", "--first", days_from(agreed, 2),
    )  # fmt: skip
    ladder.cli("review", "skip", "--kind", "plan_confirmation", "--reason", "wrong customer")
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "unconfirmed"

    ladder.advance_days(2)
    resumed_on = ladder.today()
    out = ladder.cli("resume", "--org", ladder.org, "--invoice", first.provider_id).stdout
    assert f"released from unconfirmed payment plan {plan['id']}" in out
    assert _open_holds(ladder, first.provider_id) == []
    assert _open_holds(ladder, second.provider_id), "the other invoice waits for a person"
    assert _window(ladder, first.id, plan["id"]) == f"{agreed}/{resumed_on}"
    assert _window(ladder, second.id, plan["id"]) is None
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "unconfirmed"

    ladder.advance_days(2)
    last = ladder.today()
    out = ladder.cli("resume", "--org", ladder.org, "--invoice", second.provider_id).stdout
    assert f"unconfirmed payment plan {plan['id']} cancelled" in out
    assert _open_holds(ladder, second.provider_id) == []
    assert _window(ladder, second.id, plan["id"]) == f"{agreed}/{last}"
    assert _window(ladder, first.id, plan["id"]) == f"{agreed}/{resumed_on}"  # unchanged
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "cancelled" and "syncd resume" in shown["end_reason"]
    refused = ladder.cli("payment-plan", "cancel", str(plan["id"]), "--org", ladder.org, ok=False)
    assert "already cancelled" in refused.stdout + refused.stderr


def test_cancelling_after_resuming_one_invoice_keeps_that_invoices_window(
    ladder: LadderWorld,
) -> None:
    ladder.use_plan_settings("interest_during_plan = false\n")
    customer, first, second = _two_invoices(ladder)
    agreed = ladder.today()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", first.provider_id, "--invoice", second.provider_id,
        "--instalments", "3", "--every", "month", "--first", days_from(agreed, 2),
    )  # fmt: skip
    ladder.cli("review", "skip", "--kind", "plan_confirmation", "--reason", "wrong customer")
    ladder.cli("run-once", ok=False)
    ladder.advance_days(1)
    resumed_on = ladder.today()
    ladder.cli("resume", "--org", ladder.org, "--invoice", first.provider_id)
    ladder.advance_days(2)
    cancelled_on = ladder.today()
    shown = ladder.cli_json("payment-plan", "cancel", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "cancelled"
    assert _window(ladder, first.id, plan["id"]) == f"{agreed}/{resumed_on}"
    assert _window(ladder, second.id, plan["id"]) == f"{agreed}/{cancelled_on}"


def test_resume_leaves_the_hold_of_a_plan_in_force(ladder: LadderWorld) -> None:
    """``syncd resume`` ends a person's pauses and disputes, never the hold a plan in force
    keeps: releasing it would restart ordinary dunning beside the plan's own reminders while
    the customer keeps to the plan. The user is told which plan holds it and how to end it."""
    customer, (invoice,) = ladder.debtor()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "3", "--every", "month",
        "--first", days_from(ladder.today(), 2),
    )  # fmt: skip
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "active"
    ladder.cli("pause", "--org", ladder.org, "--invoice", invoice.provider_id,
               "--until", days_from(ladder.today(), 30), "--reason", "promised")  # fmt: skip
    out = ladder.cli("resume", "--org", ladder.org, "--invoice", invoice.provider_id).stdout
    assert "(1 hold(s) released)" in out  # the person's pause
    assert f"still held by payment plan {plan['id']}" in out
    assert f"syncd payment-plan cancel {plan['id']}" in out
    held = _open_holds(ladder, invoice.provider_id)
    assert [h.actor for h in held] == [f"syncd:plan/{plan['id']}"]
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "active"
