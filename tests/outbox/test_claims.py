"""Claiming under the org's lease: in-flight rows of the current lease are never taken, those
of a lease that is gone are recovered; a refused connection stops the org's run without
burning an attempt; a duplicate insert is counted as already queued."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from syncd.connections import org_id_for
from syncd.daemon.runner import default_mailer, run_org_once
from syncd.dunning.cycle import run_cycle
from syncd.outbox.executor import Executor, ReconnectRequired
from syncd.outbox.queue import enqueue
from syncd.store.leases import OrgLease
from syncd.store.models import AuditEntry, OutboxAction
from syncd.tokens import StoredTokens, load_cipher
from tests.connectors.quickbooks.conftest import Bench, make_bench
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[tuple[Bench, Inbox]]:
    with smtp_server() as (inbox, port):
        for bench in make_bench(tmp_path, store_url, invoices=60, smtp_port=port):
            bench.syncer().backfill()
            yield bench, inbox


def queued(bench: Bench) -> tuple[int, list[OutboxAction]]:
    org_id = org_id_for(bench.store, bench.config, "qbo", bench.clock)
    assert run_cycle(bench.store, bench.config, "qbo", org_id, bench.clock.now()).queued > 0
    with bench.store.sessions() as s:
        return org_id, list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))


def executor(bench: Bench, org_id: int, lease: OrgLease) -> Executor:
    return Executor(
        bench.store,
        org_id,
        bench.connector(),
        now=bench.clock.now,
        send_email=default_mailer(bench.store, bench.config, "qbo", org_id, bench.clock),
        lease=lease,
    )


def test_in_flight_rows_of_the_current_lease_are_left_alone(world: tuple[Bench, Inbox]) -> None:
    bench, _ = world
    org_id, rows = queued(bench)
    mine, gone = rows[0], rows[1]
    with OrgLease(bench.store, org_id, "qbo").acquire() as lease:
        with bench.store.sessions.begin() as s:
            s.execute(
                update(OutboxAction)
                .where(OutboxAction.id == mine.id)
                .values(
                    status="in_flight", claimed_by=lease.token, lease_generation=lease.generation
                )
            )
            s.execute(
                update(OutboxAction)
                .where(OutboxAction.id == gone.id)
                .values(
                    status="in_flight", claimed_by="old:1:x", lease_generation=lease.generation - 1
                )
            )
        executor(bench, org_id, lease).run()
    with bench.store.sessions() as s:
        after = {r.id: r for r in s.scalars(select(OutboxAction))}
        recovered = list(
            s.scalars(select(AuditEntry).where(AuditEntry.event == "action.recovered"))
        )
    assert after[mine.id].status == "in_flight" and after[mine.id].attempts == 0
    assert after[gone.id].status in ("done", "skipped", "failed")
    assert [e.subject_id for e in recovered] == [gone.idempotency_key]
    assert recovered[0].details["previous_claimant"] == "old:1"
    assert after[gone.id].lease_generation == lease.generation


def revoke_connection(bench: Bench, org_id: int) -> None:
    """What a user does in the provider's app settings: syncd's tokens stop working."""
    tokens = StoredTokens(bench.store.sessions, org_id, load_cipher(bench.config), bench.clock)
    refresh = tokens.load().refresh_token
    org = bench.sandbox.org_config()
    response = requests.post(
        f"{bench.sandbox.base_url}/v2/oauth2/tokens/revoke",
        json={"token": refresh},
        auth=(org["client_id"], org["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200
    bench.sandbox.control.expire_access_tokens()


def test_a_refused_connection_stops_the_run_and_burns_no_attempt(
    world: tuple[Bench, Inbox],
) -> None:
    bench, inbox = world
    org_id, _ = queued(bench)
    revoke_connection(bench, org_id)
    with (
        OrgLease(bench.store, org_id, "qbo").acquire() as lease,
        pytest.raises(ReconnectRequired, match="reconnect the organisation"),
    ):
        executor(bench, org_id, lease).run()
    with bench.store.sessions() as s:
        after = list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))
        events = Counter(e.event for e in s.scalars(select(AuditEntry)))
    held = [r for r in after if r.status == "awaiting_review"]  # customers with no address
    assert all("has no email address" in str(r.review_reason) for r in held)
    after = [r for r in after if r not in held]
    assert {r.status for r in after} == {"pending"}, "nothing left in flight, nothing failed"
    assert all(r.attempts == 0 for r in after)
    interrupted = [r for r in after if r.last_error]
    assert len(interrupted) == 1 and "reconnect the organisation" in str(interrupted[0].last_error)
    assert events["action.interrupted"] == 1 and events["action.failed"] == 0
    assert not inbox.messages

    run = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert run.error is not None and "reconnect the organisation" in run.error


def test_a_duplicate_insert_is_counted_as_already_queued(world: tuple[Bench, Inbox]) -> None:
    bench, _ = world
    _, rows = queued(bench)
    row = rows[0]
    with bench.store.sessions.begin() as s:
        again = enqueue(
            s,
            org_id=row.org_id,
            key=row.idempotency_key,
            kind=row.kind,
            payload=dict(row.payload),
            now=row.created_at,
            review=None,
            invoice_id=row.invoice_provider_id,
            customer_id=row.customer_provider_id,
            scheduled_for=row.scheduled_for,
        )
        assert again is False
    with bench.store.sessions() as s:
        assert len(list(s.scalars(select(OutboxAction)))) == len(rows)
