"""A plan is in force only once the customer has it in writing, and a plan's emails to a
customer without an email address wait for review (with that reason) instead of failing.

* While the confirmation waits for approval the plan neither breaks nor reminds, however
  long it waits; payments still count.
* A confirmation skipped by a reviewer (or failed) ends the plan ``unconfirmed``: nothing
  is sent about it, its invoices stay on hold for a person, and cancelling it resumes them.
* A confirmation or reminder to a customer without an address is held with the dunning
  cycle's reason, survives a bulk approval, and is released by the sync bringing the address;
  a sync bringing an unusable value ("n/a") keeps it held, the reason naming the value.
"""

from __future__ import annotations

from email.utils import getaddresses

import pytest
from sqlalchemy import select

from syncd.review.address import unaddressed_customers
from syncd.store.models import Customer, Hold, HoldKind, Invoice, OutboxAction
from tests.plans.conftest import LadderWorld, days_from

ADDRESS = "has no email address"


def _plan_rows(ladder: LadderWorld, plan_id: int) -> list[OutboxAction]:
    prefix = f"{ladder.org}:plan/{plan_id}"
    return [r for r in ladder.outbox() if r.idempotency_key.startswith(prefix)]


def _active_holds(ladder: LadderWorld, invoice_id: str) -> list[Hold]:
    with ladder.w.store.sessions() as s:
        return list(
            s.scalars(
                select(Hold).where(Hold.provider_id == invoice_id, Hold.released_at.is_(None))
            )
        )


def _create(ladder: LadderWorld, customer: str, invoice: str, first: int) -> dict[str, object]:
    plan: dict[str, object] = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer,
        "--invoice", invoice, "--instalments", "2", "--every", "week",
        "--first", days_from(ladder.today(), first), "--by", "alice",
    )  # fmt: skip
    return plan


def test_a_plan_never_confirmed_does_not_break_and_ends_unconfirmed(
    ladder: LadderWorld,
) -> None:
    customer, (invoice,) = ladder.debtor()
    plan = _create(ladder, customer.provider_id, invoice.provider_id, 1)
    plan_id = int(str(plan["id"]))
    ladder.cli("run-once", ok=False)
    ladder.advance_days(10)  # instalment 1 unpaid, far past its 5 grace days
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan_id), "--org", ladder.org)
    assert shown["status"] == "active" and shown["confirmation"] == "awaiting_review"
    kinds = sorted(r.kind for r in _plan_rows(ladder, plan_id))
    assert kinds == ["note", "plan_confirmation"]  # no reminder, no broken note, no escalation

    ladder.cli("review", "skip", "--kind", "plan_confirmation", "--reason", "wrong customer")
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("payment-plan", "show", str(plan_id), "--org", ladder.org)
    assert shown["status"] == "unconfirmed"
    assert "confirmation email was skipped" in shown["end_reason"]
    assert sorted(r.kind for r in _plan_rows(ladder, plan_id)) == kinds
    assert _active_holds(ladder, invoice.provider_id), "a person decides what happens next"
    assert invoice.provider_id not in ladder.planned_invoices()

    ladder.cli("payment-plan", "cancel", str(plan_id), "--org", ladder.org)
    shown = ladder.cli_json("payment-plan", "show", str(plan_id), "--org", ladder.org)
    assert shown["status"] == "cancelled"
    assert _active_holds(ladder, invoice.provider_id) == []


def _addressless_debtor(ladder: LadderWorld) -> tuple[str, Invoice]:
    with ladder.w.store.sessions() as s:
        open_rows = s.scalars(
            select(Invoice).where(Invoice.status == "open", Invoice.balance > 5)
        ).all()
        customers = {i.customer_provider_id for i in open_rows}
        lacking = unaddressed_customers(s, 1, customers)
        for inv in sorted(open_rows, key=lambda i: i.provider_id):
            if inv.customer_provider_id in lacking:
                s.expunge_all()
                return inv.customer_provider_id, inv
    raise AssertionError("the seed has customers without an email address")


def _give_address(ladder: LadderWorld, customer_id: str, email: str) -> None:
    if ladder.provider == "quickbooks":
        ladder.w.bench.sandbox.control.edit_customer(
            customer_id, {"PrimaryEmailAddr": {"Address": email}}
        )
    else:
        ladder.w.bench.control.edit_contact(customer_id, email=email)


def test_plan_emails_wait_for_the_customers_address(ladder: LadderWorld) -> None:
    customer_id, invoice = _addressless_debtor(ladder)
    plan = _create(ladder, customer_id, invoice.provider_id, 3)
    plan_id = int(str(plan["id"]))
    ladder.cli("run-once", ok=False)
    (confirmation,) = [r for r in _plan_rows(ladder, plan_id) if r.kind == "plan_confirmation"]
    assert confirmation.status == "awaiting_review" and ADDRESS in str(confirmation.review_reason)
    ladder.cli("review", "approve", "--all", "--by", "alice")
    assert {r.id: r for r in ladder.outbox()}[confirmation.id].status == "awaiting_review"
    assert not [r for r in ladder.outbox() if r.status == "failed"]

    _give_address(ladder, customer_id, "found@customer.test")
    ladder.cli("run-once", ok=False)  # the sync brings the address; the hold is released
    released = {r.id: r for r in ladder.outbox()}[confirmation.id]
    assert released.status == "awaiting_review"  # a confirmation always waits for approval
    assert "always waits for approval" in str(released.review_reason)
    ladder.cli("review", "approve", str(confirmation.id), "--by", "alice")
    ladder.cli("run-once", ok=False)
    assert {r.id: r for r in ladder.outbox()}[confirmation.id].status == "done"
    sent = [m for m in ladder.w.inbox.messages if "found@customer.test" in m.rcpt_tos]
    assert [str(m.message["Subject"]).startswith("Your payment plan") for m in sent] == [True]

    # The address is gone again by the time instalment 1's reminder is due: held, not failed.
    with ladder.w.store.sessions.begin() as s:
        row = s.scalar(select(Customer).where(Customer.provider_id == customer_id))
        assert row is not None
        row.email = None
    ladder.advance_days(1)
    ladder.cli("run-once", ok=False)
    reminders = [r for r in _plan_rows(ladder, plan_id) if r.kind == "plan_reminder"]
    assert [(r.status, ADDRESS in str(r.review_reason)) for r in reminders] == [
        ("awaiting_review", True)
    ]
    _give_address(ladder, customer_id, "again@customer.test")
    ladder.cli("run-once", ok=False)
    (reminder,) = [r for r in _plan_rows(ladder, plan_id) if r.kind == "plan_reminder"]
    assert reminder.status == "done" and reminder.review_reason is None  # review = "off"
    assert any("again@customer.test" in m.rcpt_tos for m in ladder.w.inbox.messages)


def test_a_held_plan_email_names_the_bad_value_a_later_sync_brings(ladder: LadderWorld) -> None:
    """Held while the customer's field was empty, a plan's email is still held once the
    field says "n/a", and its reason now names that value (what the person fixing it at
    the provider will look for), as a dunning email's does."""
    customer_id, invoice = _addressless_debtor(ladder)
    plan = _create(ladder, customer_id, invoice.provider_id, 3)
    ladder.cli("run-once", ok=False)
    (confirmation,) = [
        r for r in _plan_rows(ladder, int(str(plan["id"]))) if r.kind == "plan_confirmation"
    ]
    assert ADDRESS in str(confirmation.review_reason)

    _give_address(ladder, customer_id, "n/a")
    ladder.cli("run-once", ok=False)  # the sync brings "n/a": still no usable address
    held = {r.id: r for r in ladder.outbox()}[confirmation.id]
    assert (held.status, held.hold_kind) == ("awaiting_review", HoldKind.ADDRESS)
    assert "'n/a' is not an email address" in str(held.review_reason)
    assert ADDRESS not in str(held.review_reason)
    assert not [r for r in ladder.outbox() if r.status == "failed"]


def test_an_approved_plan_email_whose_address_went_bad_is_held_again_not_failed(
    ladder: LadderWorld,
) -> None:
    """The confirmation was approved while the customer had an address; by the time it is
    sent the field says "n/a". Nothing goes out and nothing fails: it is back in review,
    held for its address, the value named, until a sync brings a usable one."""
    customer_id, invoice = _addressless_debtor(ladder)
    _give_address(ladder, customer_id, "found@customer.test")
    plan = _create(ladder, customer_id, invoice.provider_id, 3)
    ladder.cli("run-once", ok=False)
    (confirmation,) = [
        r for r in _plan_rows(ladder, int(str(plan["id"]))) if r.kind == "plan_confirmation"
    ]
    assert confirmation.status == "awaiting_review" and confirmation.hold_kind is None
    ladder.cli("review", "approve", str(confirmation.id), "--by", "alice")

    _give_address(ladder, customer_id, "n/a")
    ladder.cli("run-once", ok=False)  # the sync brings "n/a" before the executor sends
    held = {r.id: r for r in ladder.outbox()}[confirmation.id]
    assert (held.status, held.hold_kind, held.reviewed_by) == (
        "awaiting_review",
        HoldKind.ADDRESS,
        None,
    )
    assert "'n/a' is not an email address" in str(held.review_reason)
    assert not [r for r in ladder.outbox() if r.status == "failed"]
    assert not [
        m for m in ladder.w.inbox.messages if "Your payment plan" in str(m.message["Subject"])
    ]

    _give_address(ladder, customer_id, "again@customer.test")
    ladder.cli("run-once", ok=False)  # released; a confirmation always waits for approval
    ladder.cli("review", "approve", str(confirmation.id), "--by", "alice")
    ladder.cli("run-once", ok=False)
    assert {r.id: r for r in ladder.outbox()}[confirmation.id].status == "done"
    assert any("again@customer.test" in m.rcpt_tos for m in ladder.w.inbox.messages)


@pytest.mark.parametrize("ladder", ["quickbooks"], indirect=True)
def test_a_plan_email_reaches_every_address_in_the_customers_field(ladder: LadderWorld) -> None:
    """QuickBooks lets one email field hold several addresses and its own emails reach each;
    a plan confirmation must too, not fail as "expected one email address"."""
    customer_id, invoice = _addressless_debtor(ladder)
    _give_address(ladder, customer_id, "ap@customer.test; Boss@customer.test, ap@customer.test")
    plan = _create(ladder, customer_id, invoice.provider_id, 3)
    plan_id = int(str(plan["id"]))
    ladder.cli("run-once", ok=False)
    (confirmation,) = [r for r in _plan_rows(ladder, plan_id) if r.kind == "plan_confirmation"]
    ladder.cli("review", "approve", str(confirmation.id), "--by", "alice")
    ladder.cli("run-once", ok=False)
    assert {r.id: r for r in ladder.outbox()}[confirmation.id].status == "done"
    (sent,) = [m for m in ladder.w.inbox.messages if "ap@customer.test" in m.rcpt_tos]
    customer = [a for a in sent.rcpt_tos if a.lower().endswith("@customer.test")]
    assert customer == ["ap@customer.test", "Boss@customer.test"]  # each once, in order
    to = [a for _, a in getaddresses([str(sent.message["To"])])]
    assert to == ["ap@customer.test", "Boss@customer.test"]
