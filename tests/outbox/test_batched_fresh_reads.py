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
