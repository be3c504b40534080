"""A full cycle against the QuickBooks sandbox and a real SMTP server: every planned action
happens once, a second cycle repeats nothing, and a payment before execution stops a reminder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from syncd.connections import org_id_for
from syncd.daemon.runner import default_mailer, run_org_once
from syncd.dunning.cycle import run_cycle
from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.outbox.executor import Executor
from syncd.store.models import AuditEntry, OutboxAction
from tests.connectors.quickbooks.conftest import Bench, make_bench
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[tuple[Bench, Inbox]]:
    with smtp_server() as (inbox, port):
        for bench in make_bench(tmp_path, store_url, invoices=80, smtp_port=port):
            bench.syncer().backfill()
            yield bench, inbox


def outbox(bench: Bench) -> list[OutboxAction]:
    with bench.store.sessions() as s:
        return list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))


def test_run_once_executes_every_action_once_and_repeats_nothing(
    world: tuple[Bench, Inbox],
) -> None:
    bench, inbox = world
    run = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert run.error is None and run.execution is not None, run.error
    rows = outbox(bench)
    assert rows, "the seed has overdue invoices"
    failed = [r for r in rows if r.status == "failed"]
    # The seed has customers without an email address: those reminders fail, clearly, and
    # nothing else does.
    assert all(r.kind == "email" and "has no email address" in (r.last_error or "") for r in failed)
    assert {r.status for r in rows} <= {"done", "skipped", "failed"}
    kinds = Counter(r.kind for r in rows if r.status == "done")

    writes = bench.sandbox.control.writes()
    emails_done = [r for r in rows if r.kind == "email" and r.status == "done"]
    assert len(inbox.messages) == len(emails_done) == kinds["email"] > 0
    assert sorted(inbox.message_ids()) == sorted(r.message_id for r in emails_done)
    for received in inbox.messages:
        assert "ar@acme.test" in received.rcpt_tos  # BCC to the business, envelope only
        assert "Bcc" not in received.message
    notes = [n for n in writes["notes"] if "[syncd:" in (n["after"] or "")]
    assert len(notes) == kinds["note"]
    fee_lines = writes["lines_added"]
    assert len(fee_lines) == kinds["late_fee"] + kinds["interest"] + kinds["compensation"]

    again = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert again.error is None and again.cycle is not None and again.cycle.queued == 0
    assert len(outbox(bench)) == len(rows)
    assert len(inbox.messages) == len(emails_done)
    assert bench.sandbox.control.writes()["lines_added"] == fee_lines
    with bench.store.sessions() as s:
        events = Counter(e.event for e in s.scalars(select(AuditEntry)))
    assert events["action.planned"] == len(rows)
    assert events["action.done"] + events["action.skipped"] + events["action.failed"] == len(rows)


def test_payment_between_plan_and_execute_stops_the_reminder(
    world: tuple[Bench, Inbox],
) -> None:
    bench, inbox = world
    org_id = org_id_for(bench.store, bench.config, "qbo", bench.clock)
    report = run_cycle(bench.store, bench.config, "qbo", org_id, bench.clock.now())
    assert report.queued > 0
    rows = outbox(bench)
    email = next(r for r in rows if r.kind == "email")
    paid = {item["provider_id"] for item in email.payload["invoices"]}
    fees = [r for r in rows if r.kind == "late_fee" and r.invoice_provider_id in paid]
    for invoice_id in paid:
        bench.sandbox.control.add_payment([{"invoice_id": invoice_id}])  # pays it in full
    connector = bench.connector()
    executor = Executor(
        bench.store,
        org_id,
        connector,
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, "qbo", org_id, bench.clock),
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
