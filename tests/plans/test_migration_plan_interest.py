"""Migration 0015: plans broken under the old zero-claim waiver get the interest from before
the plan back, held for review, and only where that is safe; it also goes down and up.

Each invoice below is covered by its own broken plan, agreed on 10 March and broken on
20 March 2026 (America/Los_Angeles: broken at 17:00 UTC, agreed at 18:00 UTC), due on
1 February, with the zero claim ``payment-plan-ID`` through 20 March:

* ``hold-copy``: the state kept the plan's hold (local start 10 March): restored, window
  10 to 20 March, 2 February to 9 March for review;
* ``derived``: no hold copy; the agreement's local day is derived from the instants (the
  earliest it can be: 10 March here);
* ``claimed-since``: a claim through 25 March was made after the break: left alone;
* ``fee-since``: a late fee was queued after the break: left alone (never charge old
  interest after the ledger has moved on);
* ``nothing-before``: interest was already claimed through 9 March: left alone;
* ``paid``: the invoice is paid: left alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from policies import DunningState as PolicyState
from policies import available_policies, validate_settings
from policies.claims import claim
from policies.interest import review_windows, waived_windows
from policies.snapshot import CustomerSnapshot, InvoiceSnapshot
from syncd.store.engine import alembic_config, make_engine, upgrade
from syncd.store.models import (
    AuditEntry,
    DunningState,
    Invoice,
    Org,
    OutboxAction,
    PaymentPlan,
    PaymentPlanInvoice,
)

AGREED_AT = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # 11:00 in Los Angeles
BROKEN_AT = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)  # 10:00 in Los Angeles
BROKE_ON = date(2026, 3, 20)
DUE = date(2026, 2, 1)
CASES = ("hold-copy", "derived", "claimed-since", "fee-since", "nothing-before", "paid")


def _claim(step: str, through: date, amount: str) -> dict[str, str]:
    return {"step_id": step, "through": through.isoformat(), "amount": amount, "currency": "GBP"}


def _state(case: str, plan_id: int) -> dict[str, Any]:
    claims = [_claim(f"payment-plan-{plan_id}", BROKE_ON, "0")]
    if case == "claimed-since":
        claims.append(_claim("final", date(2026, 3, 25), "12.50"))
    if case == "nothing-before":
        claims.insert(0, _claim("day-30", date(2026, 3, 9), "40.00"))
    state = PolicyState().to_dict()
    state["interest"] = claims
    if case == "hold-copy":
        state["holds"] = [
            {"kind": "pause", "start": "2026-03-10", "until": "2026-03-20",
             "by": f"syncd:plan/{plan_id}", "reason": f"payment plan {plan_id}"},
        ]  # fmt: skip
    return state


def _seed(engine: Engine) -> dict[str, int]:
    invoices: dict[str, int] = {}
    with Session(engine) as s, s.begin():
        org = Org(name="acme", connector="xero", created_at=AGREED_AT, token_version=1)
        s.add(org)
        s.flush()
        for n, case in enumerate(CASES):
            inv = Invoice(
                org_id=org.id, provider_id=f"INV-{n}", number=case, customer_provider_id="C1",
                issue_date=DUE - timedelta(days=30), due_date=DUE, currency="GBP",
                total=Decimal("1000"), balance=Decimal(0 if case == "paid" else 1000),
                status="paid" if case == "paid" else "open", provider_updated_at=AGREED_AT,
                fingerprint=case, raw={}, synced_at=AGREED_AT,
            )  # fmt: skip
            plan = PaymentPlan(
                org_id=org.id, customer_provider_id="C1", currency="GBP",
                amount=Decimal("1000"), every="month", status="broken", on_break="resume",
                created_at=AGREED_AT, actor="alice", ended_at=BROKEN_AT, end_reason="missed",
                invoices=[PaymentPlanInvoice(invoice_provider_id=f"INV-{n}", number=case,
                                             balance=Decimal("1000"))],
            )  # fmt: skip
            s.add_all([inv, plan])
            s.flush()
            s.add(
                DunningState(invoice_id=inv.id, state=_state(case, plan.id), updated_at=BROKEN_AT)
            )
            if case == "fee-since":
                s.add(
                    OutboxAction(
                        org_id=org.id, idempotency_key=f"fee-{n}", kind="late_fee",
                        invoice_provider_id=f"INV-{n}", payload={}, status="done", attempts=1,
                        scheduled_for=BROKEN_AT, created_at=BROKEN_AT + timedelta(days=2),
                        updated_at=BROKEN_AT + timedelta(days=2),
                    )
                )  # fmt: skip
            invoices[case] = inv.id
    return invoices


def _states(engine: Engine, ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    with Session(engine) as s:
        return {case: dict(s.get_one(DunningState, i).state) for case, i in ids.items()}


def test_pre_plan_interest_is_restored_for_review_only_where_safe(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0014")
        ids = _seed(engine)
        before = _states(engine, ids)
        upgrade(engine)
        after = _states(engine, ids)
        for case in ("claimed-since", "fee-since", "nothing-before", "paid"):
            assert after[case] == before[case], case
        for case in ("hold-copy", "derived"):
            plan = next(
                c["step_id"].removeprefix("payment-plan-")
                for c in before[case]["interest"]
                if c["step_id"].startswith("payment-plan-")
            )
            assert after[case]["interest"] == []
            assert after[case]["meta"] == {
                f"interest-review:plan/{plan}": "2026-02-02/2026-03-09",
                f"interest-waived:plan/{plan}": "2026-03-10/2026-03-20",
            }, case
        with Session(engine) as s:
            audit = s.scalars(
                select(AuditEntry.subject_id).where(AuditEntry.event == "plan.interest_restored")
            ).all()
        assert sorted(audit) == ["INV-0", "INV-1"]

        command.downgrade(alembic_config(engine), "0014")
        assert _states(engine, ids) == before
        upgrade(engine)
        assert _states(engine, ids) == after
    finally:
        engine.dispose()


def test_the_claim_that_takes_restored_days_waits_for_review() -> None:
    """After the migration the next claim takes the restored days (2 Feb to 9 Mar) and the
    days after the break, skips the plan's own, and is held with the reason; a claim that
    takes none of the restored days is not held."""
    meta = (
        ("interest-review:plan/3", "2026-02-02/2026-03-09"),
        ("interest-waived:plan/3", "2026-03-10/2026-03-20"),
    )
    assert waived_windows(meta) == [(date(2026, 3, 10), BROKE_ON)]
    assert review_windows(meta) == [("plan/3", (date(2026, 2, 2), date(2026, 3, 9)))]
    settings = validate_settings(
        {"rates": {"boe_base": [{"since": "2023-08-03", "percent": "5.25"}]}}
    )
    policy = available_policies({})["uk-statutory"]
    invoice = InvoiceSnapshot(
        invoice_id="i1", number="INV-1", customer_id="c1", currency="GBP",
        issue_date=DUE - timedelta(days=30), due_date=DUE, total=Decimal("1000"),
        balance=Decimal("1000"),
    )  # fmt: skip
    business = CustomerSnapshot("c1", is_business=True)
    today = date(2026, 3, 31)
    got = claim(policy, settings.rates, invoice, business, PolicyState(meta=meta), today, None)
    assert got.interest is not None and got.interest > 0
    assert got.interest_review is not None and "2026-02-02 to 2026-03-09 (plan/3)" in (
        got.interest_review
    )
    assert "11 day(s) from 2026-03-10 waived" in got.interest_why
    later = PolicyState(
        meta=meta,
        interest=(*PolicyState.from_dict({"interest": [_claim("x", today, "5.00")]}).interest,),
    )
    nxt = claim(policy, settings.rates, invoice, business, later, today + timedelta(days=30), None)
    assert nxt.interest is not None and nxt.interest_review is None
    # A go-live after the restored days: none of them can be claimed, nothing is held.
    floored = claim(
        policy, settings.rates, invoice, business, PolicyState(meta=meta), today,
        date(2026, 3, 21),
    )  # fmt: skip
    assert floored.interest is not None and floored.interest_review is None


def _audit_entries(engine: Engine) -> list[tuple[int, str, str, dict[str, Any]]]:
    with Session(engine) as s:
        rows = s.execute(
            select(AuditEntry.id, AuditEntry.event, AuditEntry.subject_id, AuditEntry.details)
            .where(AuditEntry.event.like("plan.interest_restore%"))
            .order_by(AuditEntry.id)
        ).all()
    return [(i, e, str(subject), dict(d)) for i, e, subject, d in rows]


def test_the_downgrade_records_that_it_undid_each_restoration_once(store_url: str) -> None:
    """The audit log is append-only: a downgrade cannot remove the ``plan.interest_restored``
    entries, so it records the reversal of each, naming it; a second round trip reverses
    only the entries of the second upgrade."""
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0014")
        _seed(engine)
        upgrade(engine)
        restored = {i: subject for i, _, subject, _ in _audit_entries(engine)}
        assert sorted(restored.values()) == ["INV-0", "INV-1"]

        command.downgrade(alembic_config(engine), "0014")
        undone = [(s, d) for _, e, s, d in _audit_entries(engine) if e.endswith("_undone")]
        assert sorted((d["restored_entry"], s) for s, d in undone) == sorted(restored.items())
        for _, details in undone:
            assert details["claim_put_back"]["step_id"] == f"payment-plan-{details['plan_id']}"
            assert details["reason"] == "migration 0015 downgraded"

        upgrade(engine)
        command.downgrade(alembic_config(engine), "0014")
        entries = _audit_entries(engine)
        made = [i for i, e, _, _ in entries if e == "plan.interest_restored"]
        reversed_ = [d["restored_entry"] for _, e, _, d in entries if e.endswith("_undone")]
        assert len(made) == 4 and sorted(reversed_) == sorted(made)  # each exactly once
    finally:
        engine.dispose()


def _queue(
    s: Session, invoice: str, key: str, kind: str, status: str, at: datetime
) -> OutboxAction:
    row = OutboxAction(
        org_id=1, idempotency_key=key, kind=kind, invoice_provider_id=invoice,
        customer_provider_id="C1", payload={}, status=status, attempts=0,
        review_reason="this claim includes interest restored after it had been waived"
        if status == "awaiting_review" else None,
        reviewed_by="alice" if status == "pending" else None,
        reviewed_at=at if status == "pending" else None,
        scheduled_for=at, created_at=at, updated_at=at,
    )  # fmt: skip
    s.add(row)
    return row


def _restored(engine: Engine) -> datetime:
    """The seeded store upgraded through 0015 (its restorations made); a moment after it."""
    upgrade(engine, "0014")
    _seed(engine)
    upgrade(engine)
    return datetime.now(UTC) + timedelta(seconds=1)


def test_the_downgrade_holds_an_unsent_claim_that_may_charge_the_restored_days(
    store_url: str,
) -> None:
    """After the upgrade a cycle claims interest on the two restored invoices: INV-0's claim
    awaits review, INV-1's was approved and waits for the executor. The downgrade waives the
    restored days again, so neither may go out as reckoned: both are held for review with
    the reason, and the reversal's audit entry names the claim. A later claim, a claim
    already done, the compensation and the claims of invoices not restored are left alone."""
    engine = make_engine(store_url)
    try:
        at = _restored(engine)
        with Session(engine) as s, s.begin():
            _queue(s, "INV-0", "acme:INV-0:day-60/interest:2026-04-02", "interest",
                   "awaiting_review", at)  # fmt: skip
            _queue(s, "INV-0", "acme:INV-0:compensation:once", "compensation", "pending", at)
            _queue(s, "INV-0", "acme:INV-0:day-90/interest:2026-05-02", "interest", "pending",
                   at + timedelta(days=30))  # fmt: skip
            _queue(s, "INV-1", "acme:INV-1:day-60/interest:2026-04-02", "interest", "pending",
                   at)  # fmt: skip
            _queue(s, "INV-2", "acme:INV-2:day-60/interest:2026-04-02", "interest", "pending",
                   at)  # fmt: skip
        before = {r.idempotency_key: r for r in _outbox(engine)}

        command.downgrade(alembic_config(engine), "0014")
        after = {r.idempotency_key: r for r in _outbox(engine)}
        held = {"acme:INV-0:day-60/interest:2026-04-02", "acme:INV-1:day-60/interest:2026-04-02"}
        for key in held:
            row = after[key]
            assert (row.status, row.hold_kind, row.reviewed_by) == ("awaiting_review", None, None)
            reason = str(row.review_reason)
            assert reason.startswith("migration 0015 was downgraded")
            assert "2026-02-02 to 2026-03-09" in reason and "through 2026-03-20" in reason
        for key in set(after) - held:
            assert (after[key].status, after[key].review_reason) == (
                before[key].status,
                before[key].review_reason,
            ), key

        undone = [d for _, e, _, d in _audit_entries(engine) if e.endswith("_undone")]
        assert sorted(d["claim_since"]["key"] for d in undone) == sorted(held)
        assert all(d["claim_since"]["held"] for d in undone)
        with Session(engine) as s:
            logged = s.execute(
                select(AuditEntry.subject_id, AuditEntry.actor, AuditEntry.details).where(
                    AuditEntry.event == "action.held"
                )
            ).all()
        assert sorted(k for k, _, _ in logged) == sorted(held)
        assert {a for _, a, _ in logged} == {"syncd:migration/0015"}
        assert sorted(d["was"] for _, _, d in logged) == ["awaiting_review", "pending"]
    finally:
        engine.dispose()


def test_the_downgrade_leaves_a_claim_that_already_went_out(store_url: str) -> None:
    """A claim done before the downgrade has charged what it charged: nothing to hold, and
    the reversal says so."""
    engine = make_engine(store_url)
    try:
        at = _restored(engine)
        key = "acme:INV-0:day-60/interest:2026-04-02"
        with Session(engine) as s, s.begin():
            _queue(s, "INV-0", key, "interest", "done", at)
        command.downgrade(alembic_config(engine), "0014")
        (row,) = [r for r in _outbox(engine) if r.idempotency_key == key]
        assert row.status == "done"
        undone = {s: d for _, e, s, d in _audit_entries(engine) if e.endswith("_undone")}
        assert undone["INV-0"]["claim_since"] == {"key": key, "status": "done", "held": False}
        assert undone["INV-1"]["claim_since"] is None
    finally:
        engine.dispose()


def _outbox(engine: Engine) -> list[OutboxAction]:
    with Session(engine) as s:
        rows = list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))
        s.expunge_all()
    return rows
