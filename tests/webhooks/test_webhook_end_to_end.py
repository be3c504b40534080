"""End to end: a payment made at the provider reaches the store through a signed webhook, and
the reminder planned for the paid invoice never goes out (counted at the SMTP server and in
the sandbox's write log). Waits are on conditions, never fixed sleeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.daemon.runner import default_mailer
from syncd.dunning.cycle import run_cycle
from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.outbox.executor import Executor
from syncd.store.models import AuditEntry, Customer, Invoice, OutboxAction
from syncd.webhooks import WebhookReceiver
from syncd.webhooks.receiver import lock_guard
from tests.connectors.quickbooks.conftest import Bench, make_bench
from tests.connectors.xero.conftest import Bench as XeroBench
from tests.connectors.xero.conftest import make_bench as make_xero_bench
from tests.support.smtp import Inbox, smtp_server
from tests.webhooks.conftest import wait_until

TOKEN = "e2e-verifier-token-5d4c3b"


@pytest.fixture
def org_lock() -> threading.Lock:
    """The daemon's per-org lock, as ``syncd run`` hands it to the receiver."""
    return threading.Lock()


@pytest.fixture
def world(
    tmp_path: Path, store_url: str, org_lock: threading.Lock
) -> Iterator[tuple[Bench, Inbox, WebhookReceiver]]:
    with smtp_server() as (inbox, port):
        for bench in make_bench(tmp_path, store_url, invoices=60, smtp_port=port):
            path = tmp_path / "syncd.toml"
            with path.open("a", encoding="utf-8") as fh:
                fh.write(f'\n[orgs.webhooks]\nverifier_token = "{TOKEN}"\n')
            bench.config = load_config(path)
            bench.syncer().backfill()
            receiver = WebhookReceiver(
                bench.store,
                bench.config,
                bench.clock,
                guard=lock_guard({"qbo": org_lock}, wait_seconds=0.5),
                address="127.0.0.1:0",
            )
            receiver.worker.retry_seconds = 0.2
            receiver.start()
            try:
                yield bench, inbox, receiver
            finally:
                receiver.stop()


def rows(bench: Bench) -> dict[int, OutboxAction]:
    with bench.store.sessions() as s:
        return {r.id: r for r in s.scalars(select(OutboxAction))}


def test_payment_webhook_marks_the_invoice_paid_and_stops_its_reminder(
    world: tuple[Bench, Inbox, WebhookReceiver],
) -> None:
    bench, inbox, receiver = world
    org_id = org_id_for(bench.store, bench.config, "qbo", bench.clock)
    assert run_cycle(bench.store, bench.config, "qbo", org_id, bench.clock.now()).queued > 0
    planned = rows(bench)
    with bench.store.sessions() as s:
        reachable = set(s.scalars(select(Customer.provider_id).where(Customer.email.is_not(None))))
    email = next(
        r
        for r in planned.values()
        if r.kind == "email" and r.status == "pending" and r.customer_provider_id in reachable
    )
    paid = sorted({item["provider_id"] for item in email.payload["invoices"]})
    related = [email.id] + [r.id for r in planned.values() if r.invoice_provider_id in paid]

    registered = requests.post(
        bench.sandbox.base_url + "/_sandbox/webhooks",
        json={"url": receiver.url + "/webhooks/quickbooks/qbo", "verifier_token": TOKEN},
        timeout=30,
    )
    assert registered.status_code == 200
    for invoice_id in paid:
        bench.sandbox.control.add_payment([{"invoice_id": invoice_id}])  # in full

    def settled() -> bool:
        current = rows(bench)
        return all(current[i].status == "skipped" for i in related)

    wait_until(settled, timeout=90, what="the webhook to skip the paid invoice's actions")
    with bench.store.sessions() as s:
        statuses = {
            inv.provider_id: inv.status
            for inv in s.scalars(select(Invoice).where(Invoice.provider_id.in_(paid)))
        }
        synced = list(s.scalars(select(AuditEntry).where(AuditEntry.event == "webhook.synced")))
    assert statuses == dict.fromkeys(paid, "paid")
    assert synced, "the webhook turn is audited"
    deliveries = requests.get(bench.sandbox.base_url + "/_sandbox/webhooks", timeout=30).json()
    assert all(d["delivered"] for d in deliveries["deliveries"])

    writes_before = bench.sandbox.control.writes()
    Executor(
        bench.store,
        org_id,
        bench.connector(),
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, "qbo", org_id, bench.clock),
    ).run()
    after = rows(bench)
    assert after[email.id].status == "skipped" and "webhook" in (after[email.id].last_error or "")
    skipped_key = key_digest(email.idempotency_key)
    assert all(m.message.get(KEY_HEADER) != skipped_key for m in inbox.messages)
    sent = [r for r in after.values() if r.kind == "email" and r.status == "done"]
    assert len(inbox.messages) == len(sent)
    writes = bench.sandbox.control.writes()
    for kind in ("notes", "lines_added", "emails"):
        new = writes[kind][len(writes_before[kind]) :]
        touched = {str(w.get("invoice_id") or w.get("id") or "") for w in new}
        assert not touched & set(paid), (kind, new)


def subscribe(bench: Bench, receiver: WebhookReceiver) -> None:
    registered = requests.post(
        bench.sandbox.base_url + "/_sandbox/webhooks",
        json={"url": receiver.url + "/webhooks/quickbooks", "verifier_token": TOKEN},
        timeout=30,
    )
    assert registered.status_code == 200


def webhook_turns(bench: Bench) -> int:
    with bench.store.sessions() as s:
        found = s.scalars(select(AuditEntry).where(AuditEntry.event == "webhook.synced"))
        return len(list(found))


def test_a_grouped_reminder_that_still_covers_an_open_invoice_is_kept(
    world: tuple[Bench, Inbox, WebhookReceiver], org_lock: threading.Lock
) -> None:
    """One of two invoices in a grouped email is paid: the email stays pending (the executor
    will re-read both), the paid invoice's own actions are skipped. Meanwhile the org is busy
    (its lock held, as during a cycle): the webhook sync waits for it, then runs."""
    bench, _inbox, receiver = world
    org_id = org_id_for(bench.store, bench.config, "qbo", bench.clock)
    run_cycle(bench.store, bench.config, "qbo", org_id, bench.clock.now())
    planned = rows(bench)
    own_actions: dict[str, list[int]] = {}
    for r in planned.values():
        if r.kind != "email" and r.invoice_provider_id:
            own_actions.setdefault(r.invoice_provider_id, []).append(r.id)
    email, paid = next(
        (r, item["provider_id"])
        for r in planned.values()
        # Pending, not held: an email to a customer without an address waits for review.
        if r.kind == "email" and r.status == "pending" and len(r.payload["invoices"]) >= 2
        for item in r.payload["invoices"]
        if item["provider_id"] in own_actions
    )
    own = own_actions[paid]
    subscribe(bench, receiver)
    with org_lock:
        bench.sandbox.control.add_payment([{"invoice_id": paid}])
        wait_until(lambda: receiver.worker.deferred, what="the worker to find the org busy")
        assert webhook_turns(bench) == 0
    wait_until(lambda: webhook_turns(bench) >= 1, timeout=90, what="the deferred webhook sync")
    after = rows(bench)
    assert after[email.id].status == "pending"
    assert all(after[i].status == "skipped" for i in own)


XERO_KEY = "e2e-xero-webhook-key-1f2e3d"


@pytest.fixture
def xero_bench(tmp_path: Path, store_url: str) -> Iterator[XeroBench]:
    for bench in make_xero_bench(tmp_path, store_url, invoices=40):
        path = tmp_path / "syncd.toml"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f'\n[orgs.webhooks]\nwebhook_key = "{XERO_KEY}"\n')
        bench.config = load_config(path)
        bench.syncer().backfill()
        yield bench


def test_xero_handshake_and_invoice_event_reach_the_store(xero_bench: XeroBench) -> None:
    """Xero: the sandbox's intent-to-receive passes against the real receiver, then a payment
    arrives as a signed INVOICE update and the invoice's pending actions are skipped."""
    bench, key = xero_bench, XERO_KEY
    org_id = org_id_for(bench.store, bench.config, bench.org, bench.clock)
    assert run_cycle(bench.store, bench.config, bench.org, org_id, bench.clock.now()).queued
    with bench.store.sessions() as s:
        planned = list(
            s.scalars(
                select(OutboxAction).where(
                    OutboxAction.status == "pending",
                    OutboxAction.invoice_provider_id.is_not(None),
                )
            )
        )
    target = planned[0].invoice_provider_id
    assert target is not None
    related = [r.id for r in planned if r.invoice_provider_id == target]
    receiver = WebhookReceiver(bench.store, bench.config, bench.clock, address="127.0.0.1:0")
    receiver.start()
    try:
        registered = requests.post(
            bench.sandbox.control_url + "/webhooks",
            json={"url": receiver.url + "/webhooks/xero", "webhook_key": key},
            timeout=60,
        ).json()
        assert registered["status"] == "OK", registered
        bench.control.add_payment(target)

        def settled() -> bool:
            with bench.store.sessions() as s:
                inv = s.scalar(select(Invoice).where(Invoice.provider_id == target))
                done = s.scalars(select(OutboxAction).where(OutboxAction.id.in_(related)))
                return bool(
                    inv is not None
                    and inv.status == "paid"
                    and all(r.status == "skipped" for r in done)
                )

        wait_until(settled, timeout=90, what="the Xero webhook to settle the paid invoice")
    finally:
        receiver.stop()
