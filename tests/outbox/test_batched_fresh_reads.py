"""The executor reads the invoices of a run in batches, and a batch read never licenses an
action on an invoice paid after it was taken."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import EntityKind, Page
from connectors.kit import tag_key
from syncd.connections import org_id_for
from syncd.daemon.runner import default_mailer
from syncd.dunning.cycle import run_cycle
from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.outbox.executor import Executor
from syncd.outbox.handlers.base import ProviderWrite
from syncd.outbox.handlers.registry import handler
from syncd.store.models import OutboxAction
from tests.contract.conftest import FULL_LADDER, PROVIDERS, World, make_world
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture(params=PROVIDERS)
def world(
    request: pytest.FixtureRequest, tmp_path: Path, store_url: str
) -> Iterator[tuple[World, Inbox]]:
    block = (
        '[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "Acme Accounts <accounts@acme.test>"\n'
    )
    with smtp_server() as (inbox, port):
        for world in make_world(
            tmp_path,
            store_url,
            str(request.param),
            "kind",
            invoices=80,
            seed=11,
            extra_config=block.format(port=port),
            org_keys=FULL_LADDER,
        ):
            world.syncer().backfill()
            yield world, inbox


class PaysAfterTheBatch:
    """The real connector; right after the run's first batched read returns, the customer
    pays the chosen invoices at the provider (as if the payment raced the executor)."""

    def __init__(self, inner: Any, world: World, to_pay: set[str]) -> None:
        self.inner, self.world, self.to_pay = inner, world, to_pay
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        page = self.inner.fetch_records(entity, provider_ids)
        if not self.batches:
            assert self.to_pay <= set(provider_ids), "the batch reads every due invoice"
            for invoice_id in sorted(self.to_pay):
                self.world.adapter.pay(invoice_id)
        self.batches.append(len(provider_ids))
        return page


def test_an_invoice_paid_after_the_batch_read_is_not_acted_on(
    world: tuple[World, Inbox],
) -> None:
    bench, inbox = world
    org_id = org_id_for(bench.store, bench.config, bench.org, bench.clock)
    assert run_cycle(bench.store, bench.config, bench.org, org_id, bench.clock.now()).queued
    with bench.store.sessions() as s:
        rows = list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))
    email = next(r for r in rows if r.kind == "email")
    to_pay = {str(item["provider_id"]) for item in email.payload["invoices"]}
    provider_rows = [
        r
        for r in rows
        if r.invoice_provider_id in to_pay and isinstance(handler(r.kind), ProviderWrite)
    ]
    assert provider_rows, "the paid invoices also have provider actions due"
    connector = PaysAfterTheBatch(bench.connector(), bench, to_pay)
    executor = Executor(
        bench.store,
        org_id,
        connector,  # type: ignore[arg-type]
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, bench.org, org_id, bench.clock),
    )
    executor.run()

    assert connector.batches and connector.batches[0] > 1, "one batched read, not one per invoice"
    with bench.store.sessions() as s:
        after = {r.id: r for r in s.scalars(select(OutboxAction))}
    assert after[email.id].status == "skipped", after[email.id].last_error
    assert all(after[r.id].status == "skipped" for r in provider_rows), [
        (after[r.id].kind, after[r.id].status) for r in provider_rows
    ]
    # Nothing reached the customer or the ledger for the invoices paid after the batch read.
    skipped_digest = key_digest(email.idempotency_key)
    assert all(m.message.get(KEY_HEADER) != skipped_digest for m in inbox.messages)
    written = set(bench.adapter.note_tags()) | set(bench.adapter.fee_tags())
    assert not written & {tag_key(r.idempotency_key) for r in provider_rows}
    # ... while the other due actions still ran.
    assert any(r.status == "done" for r in after.values())


# -- each action kind, the stale-token path, and what a run costs -----------------------------


def _queue(bench: World) -> tuple[int, list[OutboxAction]]:
    org_id = org_id_for(bench.store, bench.config, bench.org, bench.clock)
    assert run_cycle(bench.store, bench.config, bench.org, org_id, bench.clock.now()).queued
    with bench.store.sessions() as s:
        return org_id, list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))


def _executor(bench: World, org_id: int, connector: Any) -> Executor:
    return Executor(
        bench.store,
        org_id,
        connector,
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, bench.org, org_id, bench.clock),
    )


def _named(row: OutboxAction) -> set[str]:
    if row.kind == "email":
        return {str(item["provider_id"]) for item in row.payload["invoices"]}
    return {row.invoice_provider_id} if row.invoice_provider_id else set()


@pytest.mark.parametrize("kind", ["note", "late_fee", "email"])
def test_each_kind_skips_an_invoice_paid_after_the_batch_read(
    world: tuple[World, Inbox], kind: str
) -> None:
    """Pay the invoices of one action of ``kind`` between the batch read and the write: that
    action is skipped, and no action of any kind writes to or emails about those invoices."""
    bench, inbox = world
    org_id, rows = _queue(bench)
    chosen = next(r for r in rows if r.kind == kind)
    to_pay = _named(chosen)
    connector = PaysAfterTheBatch(bench.connector(), bench, to_pay)
    _executor(bench, org_id, connector).run()

    with bench.store.sessions() as s:
        after = {r.id: r for r in s.scalars(select(OutboxAction))}
    assert after[chosen.id].status == "skipped", after[chosen.id].last_error
    touching = [r for r in rows if _named(r) & to_pay and r.kind in {"note", "late_fee", "email"}]
    for row in touching:
        final = after[row.id]
        if row.kind == "email" and final.status == "done":
            # a grouped reminder still goes for the customer's other invoices, without these
            assert not set(final.result["invoices"]) & to_pay
        else:
            assert final.status == "skipped", (row.kind, final.status, final.last_error)
    written = set(bench.adapter.note_tags()) | set(bench.adapter.fee_tags())
    assert not written & {tag_key(r.idempotency_key) for r in touching}
    skipped_emails = {
        key_digest(r.idempotency_key)
        for r in touching
        if r.kind == "email" and after[r.id].status == "skipped"
    }
    assert not {m.message.get(KEY_HEADER) for m in inbox.messages} & skipped_emails


class TouchesAfterTheBatch(PaysAfterTheBatch):
    """A small part-payment after the batch read: the invoice stays open, its version moves."""

    def fetch_records(self, entity: EntityKind, provider_ids: Sequence[str]) -> Page:
        page = self.inner.fetch_records(entity, provider_ids)
        if not self.batches:
            for invoice_id in sorted(self.to_pay):
                self.world.adapter.pay(invoice_id, "0.01")
        self.batches.append(len(provider_ids))
        return page


@pytest.mark.parametrize("kind", ["note", "late_fee"])
def test_a_stale_synctoken_is_read_again_and_decided_again(
    world: tuple[World, Inbox], kind: str
) -> None:
    bench, _inbox = world
    if bench.adapter.provider != "quickbooks":
        pytest.skip("only QuickBooks version-checks writes (Xero has no optimistic lock)")
    org_id, rows = _queue(bench)
    chosen = next(r for r in rows if r.kind == kind)
    assert chosen.invoice_provider_id is not None
    same_invoice = [r for r in rows if r.invoice_provider_id == chosen.invoice_provider_id]
    before = len(bench.adapter.statuses())
    connector = TouchesAfterTheBatch(bench.connector(), bench, {chosen.invoice_provider_id})
    _executor(bench, org_id, connector).run()

    with bench.store.sessions() as s:
        final = s.get(OutboxAction, chosen.id)
        assert final is not None
    # Still open after a part-payment: refused as stale once, read again, written once.
    assert final.status == "done", final.last_error
    statuses = bench.adapter.statuses()[before:]
    assert 400 in statuses, "the write on the batch's SyncToken was refused"
    tags = bench.adapter.note_tags() if kind == "note" else bench.adapter.fee_tags()
    assert tags[tag_key(chosen.idempotency_key)] == 1
    assert all(r.kind in {"note", "late_fee", "email", "escalate"} for r in same_invoice)


def test_a_run_costs_its_batched_reads_plus_one_call_per_write(
    world: tuple[World, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted from the sandbox's request log: every call a run makes is a write or one of
    its batched reads, and those are one per chunk of named invoices plus one per group."""
    from syncd.outbox import freshness

    monkeypatch.setattr(freshness, "GROUP_SECONDS", 3600.0)  # count groups, not the clock
    bench, _inbox = world
    org_id, rows = _queue(bench)
    before = len(bench.adapter.statuses())
    executor = _executor(bench, org_id, bench.connector())
    executor.run()
    calls = len(bench.adapter.statuses()) - before

    with bench.store.sessions() as s:
        after = list(s.scalars(select(OutboxAction)))
    writes = sum(
        1 for r in after if isinstance(handler(r.kind), ProviderWrite) and r.status == "done"
    )
    named = set().union(*(_named(r) for r in rows))
    assert executor.fresh_reads is not None
    reads = executor.fresh_reads.calls
    assert calls == writes + reads, (calls, writes, reads)
    chunk = 100 if bench.adapter.provider == "quickbooks" else 50
    confirming = [
        r for r in rows
        if r.kind == "email"
        or (bench.adapter.provider == "xero" and isinstance(handler(r.kind), ProviderWrite))
    ]  # fmt: skip
    groups = -(-len(confirming) // freshness.GROUP_ACTIONS)
    assert reads <= -(-len(named) // chunk) + 2 * groups, (reads, len(named), len(confirming))


def test_a_confirming_read_licenses_acting_for_a_few_seconds_only(
    world: tuple[World, Inbox],
) -> None:
    from syncd.outbox.freshness import GROUP_SECONDS, UNKNOWN, FreshInvoices

    bench, _inbox = world
    org_id, _rows = _queue(bench)
    invoice_id = str(bench.adapter.open_invoices()[0]["id"])
    ticks = [1000.0]
    reads = FreshInvoices(
        bench.store, org_id, bench.connector(), bench.clock.now, monotonic=lambda: ticks[0]
    )
    assert reads.confirmed(invoice_id) is UNKNOWN
    reads.confirm([invoice_id])
    assert reads.calls == 1
    assert reads.confirmed(invoice_id) is not UNKNOWN
    ticks[0] += GROUP_SECONDS + 0.5
    assert reads.confirmed(invoice_id) is UNKNOWN, "an old confirmation must be read again"
