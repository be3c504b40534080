"""A full cycle against each provider's sandbox and a real SMTP server: every planned action
happens once, a second cycle repeats nothing, and a payment before execution stops a reminder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.kit import tag_key
from syncd.connections import org_id_for
from syncd.daemon.runner import OrgRun, default_mailer, run_org_once
from syncd.dunning.cycle import run_cycle
from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.outbox.executor import Executor
from syncd.store.models import AuditEntry, Customer, OutboxAction
from tests.contract.conftest import FULL_LADDER, PROVIDERS, World, make_world
from tests.support.smtp import Inbox, smtp_server


def email_block(port: int) -> str:
    return (
        f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "Acme Accounts <accounts@acme.test>"\nbcc = "ar@acme.test"\n'
    )


@pytest.fixture(params=PROVIDERS)
def world(
    request: pytest.FixtureRequest, tmp_path: Path, store_url: str
) -> Iterator[tuple[World, Inbox]]:
    with smtp_server() as (inbox, port):
        for world in make_world(
            tmp_path,
            store_url,
            str(request.param),
            "kind",
            invoices=80,
            seed=11,
            extra_config=email_block(port),
            org_keys=FULL_LADDER,
        ):
            world.syncer().backfill()
            yield world, inbox


def run(bench: World) -> OrgRun:
    """One run-once; the executor's connector sleeps in sandbox time (Xero: 60 calls/min)."""
    return run_org_once(
        bench.store,
        bench.config,
        bench.org,
        bench.clock,
        executor_hook=lambda ex: bench.adapter.pace(ex.connector, bench.pace),
    )


def outbox(world: World) -> list[OutboxAction]:
    with world.store.sessions() as s:
        return list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))


def test_run_once_executes_every_action_once_and_repeats_nothing(
    world: tuple[World, Inbox],
) -> None:
    bench, inbox = world
    adapter = bench.adapter
    first = run(bench)
    assert first.error is None and first.execution is not None, first.error
    rows = outbox(bench)
    assert rows, "the seed has overdue invoices"
    held = [r for r in rows if r.status == "awaiting_review"]
    # The seed has customers without an email address: those reminders wait for review with
    # the reason (review is "off" otherwise), and nothing fails.
    assert held, "the seed has customers without an email address"
    assert all(
        r.kind == "email" and "has no email address" in (r.review_reason or "") for r in held
    )
    assert {r.status for r in rows} <= {"done", "skipped", "awaiting_review"}
    done = [r for r in rows if r.status == "done"]
    kinds = Counter(r.kind for r in done)

    emails_done = [r for r in done if r.kind == "email"]
    assert len(inbox.messages) == len(emails_done) == kinds["email"] > 0
    assert sorted(inbox.message_ids()) == sorted(r.message_id for r in emails_done)
    for received in inbox.messages:
        assert "ar@acme.test" in received.rcpt_tos  # BCC to the business, envelope only
        assert "Bcc" not in received.message
    notes = adapter.note_tags()
    assert {tag_key(r.idempotency_key) for r in done if r.kind == "note"} == set(notes)
    assert all(n == 1 for n in notes.values()), notes
    fees = adapter.fee_tags()
    fee_kinds = ("late_fee", "interest", "compensation")
    assert {tag_key(r.idempotency_key) for r in done if r.kind in fee_kinds} == set(fees)
    assert all(n == 1 for n in fees.values()), fees

    again = run(bench)
    assert again.error is None and again.cycle is not None and again.cycle.queued == 0
    assert len(outbox(bench)) == len(rows)
    assert len(inbox.messages) == len(emails_done)
    assert adapter.fee_tags() == fees and adapter.note_tags() == notes
    with bench.store.sessions() as s:
        events = Counter(e.event for e in s.scalars(select(AuditEntry)))
    assert events["action.planned"] == len(rows)
    assert events["action.done"] + events["action.skipped"] == len(rows) - len(held)
    assert events["action.failed"] == 0


def _held_for_address(bench: World) -> OutboxAction:
    return next(
        r
        for r in outbox(bench)
        if r.status == "awaiting_review" and "has no email address" in (r.review_reason or "")
    )


def _set_email(bench: World, customer_id: str | None, email: str | None) -> None:
    with bench.store.sessions.begin() as s:
        customer = s.scalar(select(Customer).where(Customer.provider_id == customer_id))
        assert customer is not None
        customer.email = email


def _give_address_at_provider(bench: World, customer_id: str, email: str) -> None:
    control = bench.adapter.control
    if bench.adapter.provider == "quickbooks":
        control.edit_customer(customer_id, {"PrimaryEmailAddr": {"Address": email}})
    else:
        control.edit_contact(customer_id, email=email)


def test_held_for_a_missing_address_is_sent_once_after_the_address_arrives(
    world: tuple[World, Inbox],
) -> None:
    bench, inbox = world
    assert run(bench).error is None
    held = _held_for_address(bench)
    digest = key_digest(held.idempotency_key)
    _give_address_at_provider(bench, str(held.customer_provider_id), "found@customer.test")
    assert run(bench).error is None  # the sync brings the address, the cycle releases it
    after = {r.id: r for r in outbox(bench)}[held.id]
    assert after.status == "done", (after.status, after.last_error)
    mine = [m for m in inbox.messages if m.message.get(KEY_HEADER) == digest]
    assert len(mine) == 1 and "found@customer.test" in mine[0].rcpt_tos
    assert run(bench).error is None  # a later cycle sends nothing again
    assert [m for m in inbox.messages if m.message.get(KEY_HEADER) == digest] == mine


def test_address_gone_between_release_and_send_holds_it_again_until_one_comes(
    world: tuple[World, Inbox],
) -> None:
    """An email released (or approved) while the customer had an address, whose address is
    gone when it is sent, is not failed: it goes back in review, held for its address, and
    the sync that brings one sends it, once."""
    bench, inbox = world
    assert run(bench).error is None
    held = _held_for_address(bench)
    _set_email(bench, held.customer_provider_id, "briefly@customer.test")  # no sync between
    org_id = org_id_for(bench.store, bench.config, bench.org, bench.clock)
    run_cycle(bench.store, bench.config, bench.org, org_id, bench.clock.now())
    assert {r.id: r for r in outbox(bench)}[held.id].status == "pending"
    _set_email(bench, held.customer_provider_id, "n/a")
    report = Executor(
        bench.store,
        org_id,
        bench.connector(),
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, bench.org, org_id, bench.clock),
    ).run()
    after = {r.id: r for r in outbox(bench)}[held.id]
    assert report.held == 1 and report.failed == 0
    assert after.status == "awaiting_review" and after.hold_kind == "address"
    assert "'n/a'" in (after.review_reason or "") and "not sent" in (after.last_error or "")
    assert after.reviewed_at is None and after.attempts == 0
    digest = key_digest(held.idempotency_key)
    assert all(m.message.get(KEY_HEADER) != digest for m in inbox.messages)
    _give_address_at_provider(bench, str(held.customer_provider_id), "back@customer.test")
    assert run(bench).error is None  # the sync brings the address, the cycle releases it
    assert {r.id: r for r in outbox(bench)}[held.id].status == "done"
    mine = [m for m in inbox.messages if m.message.get(KEY_HEADER) == digest]
    assert len(mine) == 1 and "back@customer.test" in mine[0].rcpt_tos


def test_payment_between_plan_and_execute_stops_the_reminder(
    world: tuple[World, Inbox],
) -> None:
    bench, inbox = world
    org_id = org_id_for(bench.store, bench.config, bench.org, bench.clock)
    report = run_cycle(bench.store, bench.config, bench.org, org_id, bench.clock.now())
    assert report.queued > 0
    rows = outbox(bench)
    email = next(r for r in rows if r.kind == "email" and r.status == "pending")
    paid = {item["provider_id"] for item in email.payload["invoices"]}
    fees = [r for r in rows if r.kind == "late_fee" and r.invoice_provider_id in paid]
    for invoice_id in paid:
        bench.adapter.pay(invoice_id)  # pays it in full
    executor = Executor(
        bench.store,
        org_id,
        bench.connector(),  # paced: sleeps in sandbox time
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, bench.org, org_id, bench.clock),
    )
    executor.run()
    after = {r.id: r for r in outbox(bench)}
    assert after[email.id].status == "skipped"
    assert "paid" in (after[email.id].last_error or "")
    assert all(after[f.id].status == "skipped" for f in fees)
    # Nothing went out for the skipped reminder; the other reminders did.
    skipped = key_digest(email.idempotency_key)
    assert all(m.message.get(KEY_HEADER) != skipped for m in inbox.messages)
    done = [r for r in after.values() if r.kind == "email" and r.status == "done"]
    assert sorted(m.message.get(KEY_HEADER) for m in inbox.messages) == sorted(
        key_digest(r.idempotency_key) for r in done
    )
