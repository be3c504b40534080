"""Payment plans end to end on both sandboxes, a real SMTP server and the CLI.

A kept plan stops ordinary reminders and fees for its invoices, is confirmed in writing once
approved (email with the schedule as a PDF, a note on the invoice at the provider), and
payments synced from the provider are allocated to its instalments; a missed instalment
breaks it and the policy decides what follows (resume dunning, or escalate).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from syncd.store.models import DunningState, Hold, OutboxAction
from tests.plans.conftest import LadderWorld, days_from, overprecise, pdf_text

ORDINARY = {"email", "provider_email", "late_fee", "interest", "compensation", "escalate"}


def _about(row: OutboxAction, invoice_id: str) -> bool:
    items = row.payload.get("invoices") or []
    return row.invoice_provider_id == invoice_id or any(
        i.get("provider_id") == invoice_id for i in items
    )


def _ordinary_since(ladder: LadderWorld, invoice_id: str, since: datetime) -> list[str]:
    return [
        f"{r.kind}:{r.idempotency_key}"
        for r in ladder.outbox()
        if r.kind in ORDINARY and r.created_at >= since and _about(r, invoice_id)
    ]


def test_kept_plan_stops_dunning_allocates_payments_and_a_miss_breaks_it(
    ladder: LadderWorld,
) -> None:
    customer, (invoice,) = ladder.debtor()
    today = ladder.today()
    created_at = ladder.w.now()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", str(invoice.number), "--instalments", "3", "--every", "month",
        "--first", days_from(today, 3), "--by", "alice",
    )  # fmt: skip
    amounts = [Decimal(i["amount"]) for i in plan["instalments"]]
    assert sum(amounts) == invoice.balance and len(amounts) == 3
    assert amounts[0] == amounts[1] <= amounts[2]
    assert plan["status"] == "active" and plan["confirmation"] == "awaiting_review"
    assert invoice.provider_id not in ladder.planned_invoices()

    # Nothing reaches the customer until a human approves the confirmation; the note does.
    ladder.cli("run-once", ok=False)
    rows = {
        r.kind: r for r in ladder.outbox() if r.idempotency_key.startswith(f"{ladder.org}:plan/")
    }
    assert rows["plan_confirmation"].status == "awaiting_review"
    assert "always waits for approval" in str(rows["plan_confirmation"].review_reason)
    assert rows["note"].status == "done"
    # The note on the customer's invoice reads as a bookkeeper writes an amount.
    note = str(rows["note"].payload["text"])
    assert f"agreed for {plan['amount']} {invoice.currency}" in note
    assert not overprecise(note, invoice.currency), note
    shown_note = ladder.cli("actions", "show", str(rows["note"].id)).stdout
    assert f"invoices: {invoice.number}\n" in shown_note, shown_note
    preview = ladder.cli("preview", str(rows["plan_confirmation"].id)).stdout
    assert "Your payment plan" in preview and str(customer.email) in preview
    head = f"# action {rows['plan_confirmation'].id}: plan_confirmation\n"
    assert preview.startswith(head), preview  # not "(step None) on None"
    assert all(customer.email not in m.rcpt_tos for m in ladder.w.inbox.messages
               if "plan" in str(m.message["Subject"]).lower())  # fmt: skip
    ladder.cli("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    ladder.cli("run-once", ok=False)
    confirmations = [
        m for m in ladder.w.inbox.messages
        if str(m.message["Subject"]).startswith("Your payment plan")
    ]  # fmt: skip
    assert len(confirmations) == 1 and str(customer.email) in confirmations[0].rcpt_tos
    text = pdf_text(confirmations[0].message)
    assert f"Invoice {invoice.number}" in text
    for row in plan["instalments"]:
        assert row["amount"] in text and row["due"] in text
    assert not overprecise(text, invoice.currency), text

    # Instalment 1 paid on its due date: allocated, the plan is kept.
    ladder.advance_days(3)
    ladder.pay(invoice.provider_id, amounts[0])
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    first = shown["instalments"][0]
    assert shown["status"] == "active"
    assert Decimal(first["paid"]) == amounts[0] and first["met_on"] is not None
    assert Decimal(shown["instalments"][1]["paid"]) == 0
    assert _ordinary_since(ladder, invoice.provider_id, created_at) == []

    # Instalment 2 gets its own reminder before its due date, and no other email.
    due2 = date.fromisoformat(shown["instalments"][1]["due"])
    ladder.advance_days((due2 - ladder.today()).days - 2)
    ladder.cli("run-once", ok=False)
    reminders = [r for r in ladder.outbox() if r.kind == "plan_reminder"]
    assert [(r.payload["instalment"], r.payload["reminder"], r.status) for r in reminders] == [
        (2, "before", "done")
    ]
    coming = [
        m for m in ladder.w.inbox.messages if str(m.message["Subject"]).startswith("Coming up")
    ]
    assert len(coming) == 1 and str(customer.email) in coming[0].rcpt_tos
    assert _ordinary_since(ladder, invoice.provider_id, created_at) == []

    # Instalment 2 missed past the grace days: broken, holds released, dunning resumes.
    ladder.advance_days((due2 - ladder.today()).days + 6)
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "broken" and shown["on_break"] == "resume"
    assert "instalment 2" in shown["end_reason"]
    with ladder.w.store.sessions() as s:
        holds = s.scalars(select(Hold).where(Hold.provider_id == invoice.provider_id)).all()
    assert holds and all(h.released_at is not None for h in holds)
    resumed = _ordinary_since(ladder, invoice.provider_id, created_at)
    assert resumed or invoice.provider_id in ladder.planned_invoices()


def test_a_broken_plan_escalates_when_the_policy_says_so(ladder: LadderWorld) -> None:
    ladder.use_plan_settings(
        'on_break = "escalate"\ngrace_days = 2\ninterest_during_plan = false\n'
    )
    customer, (invoice,) = ladder.debtor()
    today = ladder.today()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "2", "--every", "14days",
        "--first", days_from(today, 1), "--deposit", "1.00",
    )  # fmt: skip
    assert [i["number"] for i in plan["instalments"]] == [0, 1, 2]
    assert Decimal(plan["instalments"][0]["amount"]) == Decimal("1.00")
    ladder.cli("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    ladder.cli("run-once", ok=False)  # the customer has the plan in writing: it is in force
    ladder.advance_days(4)  # the deposit was due yesterday-but-two: past 2 grace days
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan["id"]), "--org", ladder.org)
    assert shown["status"] == "broken" and shown["on_break"] == "escalate"
    escalations = [
        r for r in ladder.outbox()
        if r.kind == "escalate" and r.idempotency_key.startswith(f"{ladder.org}:plan/")
    ]  # fmt: skip
    assert [r.invoice_provider_id for r in escalations] == [invoice.provider_id]
    assert "broken" in str(escalations[0].payload["reason"])
    # The interest of the plan's own days (agreement day to the break) is waived; the days
    # before the plan stay claimable: no zero claim through the break hides them.
    with ladder.w.store.sessions() as s:
        state = s.get(DunningState, invoice.id)
        assert state is not None
        meta = state.state["meta"]
        claims = state.state["interest"]
    assert meta[f"interest-waived:plan/{plan['id']}"] == f"{today}/{ladder.today()}"
    assert not [c for c in claims if c["step_id"].startswith("payment-plan-")]
