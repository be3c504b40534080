"""Review modes, the step override, first contact, and the go-live date (config, store,
``config check``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from policies import ActionKind, PlannedAction
from syncd.connections import org_id_for
from syncd.dunning.planning import plan_org, policy_fingerprint
from syncd.review.golive import go_live_for
from syncd.review.hold import Holds, contacted_customers, hold_reason
from syncd.store.models import Org, OutboxAction, SyncCursor
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


def world_with(tmp_path: Path, store_url: str, **extra: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world("quickbooks", tmp_path, store_url, port, inbox, **extra)


@pytest.fixture
def qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    yield from world_with(tmp_path, store_url)


@pytest.fixture
def fees_mode(tmp_path: Path, store_url: str) -> Iterator[World]:
    # Live since long before the backlog: the ordinary ladder, fees included.
    yield from world_with(
        tmp_path, store_url, review='"fees-and-escalations"', go_live="2025-01-01"
    )


def test_fees_and_escalations_mode_sends_reminders_and_holds_charges(fees_mode: World) -> None:
    writes = fees_mode.writes()
    fees_mode.cli("run-once", ok=False)  # customers without an address fail, as before
    rows = fees_mode.outbox()
    charges = {"late_fee", "interest", "compensation", "escalate"}
    held = [r for r in rows if r.status == "awaiting_review"]
    assert any(r.kind in charges for r in rows)
    assert all(r.status == "awaiting_review" for r in rows if r.kind in charges)
    for r in held:  # reminders are held only when the engine itself asks for review
        mode_reason = "fees-and-escalations" in (r.review_reason or "")
        assert mode_reason == (r.kind in charges), (r.kind, r.review_reason)
    assert fees_mode.inbox.messages  # the reminders went
    assert fees_mode.writes()["lines_added"] == writes["lines_added"]  # no fee was charged
    # ... except the email of a step that charges: it announces the fee, so it waits with it.
    fees = {"late_fee", "interest", "compensation"}
    waiting = {(r.invoice_provider_id, r.payload["step"]) for r in held if r.kind in fees}
    emails = [r for r in rows if r.kind == "email"]
    announcing = [
        r for r in emails
        if {(i["provider_id"], i["step"]) for i in r.payload["invoices"]} & waiting
    ]  # fmt: skip
    assert any(r.payload["step"] == "late-fee" for r in announcing), "a late-fee notice"
    for r in announcing:
        assert r.status == "awaiting_review", (r.status, r.payload["step"])
        assert "the email announces the late fee on invoice" in str(r.review_reason)
    sent = {str(m.message["Message-ID"]) for m in fees_mode.inbox.messages}
    assert not {r.message_id for r in announcing} & sent
    assert any(r.status == "done" for r in emails)  # the others went


def _action(kind: ActionKind, customer: str, **fields: object) -> PlannedAction:
    from policies.actions import step_key

    base = PlannedAction(
        kind=kind,
        key=step_key("o", "inv1", "s1", kind),
        org="o",
        customer_id=customer,
        invoice_id="inv1",
        invoice_number="1",
        policy="standard",
        step_id="s1",
        scheduled_for=datetime(2026, 11, 3, tzinfo=UTC),
        reason="why",
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_hold_precedence() -> None:
    fee = _action(ActionKind.LATE_FEE, "c1")
    mail = _action(ActionKind.EMAIL, "c1")
    assert hold_reason(mail, "off", contacted=False) is None
    assert hold_reason(mail, "all", contacted=True) is not None
    assert hold_reason(mail, "fees-and-escalations", contacted=False) is None
    assert hold_reason(fee, "fees-and-escalations", contacted=True) is not None
    assert hold_reason(_action(ActionKind.ESCALATE, "c1"), "fees-and-escalations", contacted=True)
    assert hold_reason(mail, "first-contact", contacted=False) is not None
    assert hold_reason(fee, "first-contact", contacted=True) is None
    # The step's override beats the org's mode ...
    assert (
        hold_reason(dataclasses.replace(mail, review_mode="never"), "all", contacted=False) is None
    )
    assert hold_reason(dataclasses.replace(mail, review_mode="always"), "off", contacted=True)
    # ... and the engine's own reason beats everything.
    forced = dataclasses.replace(mail, review="overdue 230 days at go-live", review_mode="never")
    assert hold_reason(forced, "off", contacted=True) == "overdue 230 days at go-live"


def test_first_contact_means_a_completed_customer_facing_action(qbo: World) -> None:
    org_id = org_id_for(qbo.store, qbo.config, "qbo", qbo.bench.clock)
    now = qbo.now()

    def row(n: int, customer: str, kind: str, status: str, result: dict[str, str] | None) -> None:
        with qbo.store.sessions.begin() as s:
            s.add(
                OutboxAction(
                    org_id=org_id, idempotency_key=f"k{n}", kind=kind,
                    customer_provider_id=customer, payload={}, status=status, attempts=1,
                    scheduled_for=now, created_at=now, updated_at=now, result=result,
                )
            )  # fmt: skip

    row(1, "A", "email", "done", {"invoices": "1"})
    row(2, "B", "email", "done", {"delivery": "unconfirmed: process stopped after SMTP hand-off"})
    row(3, "C", "note", "done", None)  # internal: not contact
    row(4, "D", "email", "failed", None)
    row(5, "E", "email", "awaiting_review", None)
    row(6, "F", "late_fee", "done", None)
    with qbo.store.sessions() as s:
        assert contacted_customers(s, org_id, "ABCDEFG") == {"A", "F"}

    # With the mode on, a real plan holds exactly the actions of customers not yet reached.
    text = qbo.config.path.read_text(encoding="utf-8")
    qbo.config.path.write_text(
        text.replace('policy = "standard"\n', 'policy = "standard"\nreview = "first-contact"\n'),
        encoding="utf-8",
    )
    from syncd.config import load_config

    config = load_config(qbo.config.path)
    with qbo.store.sessions() as s:
        actions = plan_org(s, config, "qbo", org_id, now).actions
    reached = actions[0].customer_id
    row(7, reached, "email", "done", None)
    with qbo.store.sessions() as s:
        holds = Holds(s, config, "qbo", org_id, actions)
        for a in actions:  # (the engine's own review reasons hold whatever the mode)
            assert (holds.hold(a)[0] is None) == (a.customer_id == reached and not a.review)


def test_go_live_is_recorded_once_and_shown_by_config_check(qbo: World) -> None:
    org_id = org_id_for(qbo.store, qbo.config, "qbo", qbo.bench.clock)
    backfilled = qbo.now().astimezone(ZoneInfo("America/Los_Angeles")).date()
    shown = qbo.cli("config", "check").stdout
    assert "all (default for a new org)" in shown
    assert f"{backfilled.isoformat()} (first backfill)" in shown
    with qbo.store.sessions() as s:
        assert s.get(Org, org_id).go_live is None  # type: ignore[union-attr]
    qbo.cli("run-once")  # the first cycle records it
    with qbo.store.sessions.begin() as s:
        assert s.get(Org, org_id).go_live == backfilled  # type: ignore[union-attr]
        # A later backfill --restart completes on another day: go-live does not move.
        s.execute(
            update(SyncCursor)
            .where(SyncCursor.org_id == org_id)
            .values(backfill_completed_at=qbo.now() + timedelta(days=40))
        )
    with qbo.store.sessions() as s:
        assert go_live_for(s, qbo.config, "qbo", org_id, record=True) == backfilled
        assert s.scalar(select(Org.go_live).where(Org.id == org_id)) == backfilled

    text = qbo.config.path.read_text(encoding="utf-8")
    qbo.config.path.write_text(
        text.replace('policy = "standard"\n', 'policy = "standard"\ngo_live = 2026-12-01\n'),
        encoding="utf-8",
    )
    shown = qbo.cli("config", "check").stdout
    assert "2026-12-01 (config)" in shown
    from syncd.config import load_config

    config = load_config(qbo.config.path)
    with qbo.store.sessions() as s:
        assert go_live_for(s, config, "qbo", org_id, record=False) == date(2026, 12, 1)
    # A different go-live re-plans every invoice once (it shapes the plan).
    assert policy_fingerprint(config, "qbo", date(2026, 12, 1)) != policy_fingerprint(
        config, "qbo", backfilled
    )


def test_config_rejects_an_unknown_review_mode(tmp_path: Path) -> None:
    from syncd.config import ConfigError, load_config

    path = tmp_path / "syncd.toml"
    path.write_text(
        '[[orgs]]\nname = "a"\nconnector = "quickbooks"\npolicy = "standard"\n'
        'review = "sometimes"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="review"):
        load_config(path)


def test_a_fee_notice_held_for_its_address_stays_with_its_fee(fees_mode: World) -> None:
    """The sync that brings a missing address releases a held email onto its ordinary path;
    a late-fee notice whose fee still waits for approval stays held with it."""
    control = fees_mode.bench.sandbox.control
    today = fees_mode.now().date()
    made = control.create_customer({"DisplayName": "Quiet Joinery Ltd"})
    control.create_invoice(
        made["Id"],
        [{"amount": "900.00", "description": "Joinery"}],
        txn_date=(today - timedelta(days=44)).isoformat(),
        due_date=(today - timedelta(days=14)).isoformat(),
    )
    fees_mode.cli("run-once", ok=False)
    mine = [r for r in fees_mode.outbox() if r.customer_provider_id == made["Id"]]
    assert {(r.kind, r.status) for r in mine} == {
        ("email", "awaiting_review"),
        ("late_fee", "awaiting_review"),
    }, [(r.kind, r.status, r.review_reason) for r in mine]
    email = next(r for r in mine if r.kind == "email")
    assert "has no email address" in str(email.review_reason)
    control.edit_customer(made["Id"], {"PrimaryEmailAddr": {"Address": "ar@quiet.test"}})
    fees_mode.cli("run-once", ok=False)  # the sync brings the address: the hold is lifted
    email = next(r for r in fees_mode.outbox() if r.id == email.id)
    assert email.status == "awaiting_review" and email.hold_kind is None
    assert "the email announces the late fee on invoice" in str(email.review_reason)
    assert not [m for m in fees_mode.inbox.messages if "ar@quiet.test" in m.rcpt_tos]
    fees_mode.cli("review", "approve", "--customer", made["Id"], "--by", "alice")
    fees_mode.cli("run-once", ok=False)
    assert [m for m in fees_mode.inbox.messages if "ar@quiet.test" in m.rcpt_tos]
    fee = next(
        r
        for r in fees_mode.outbox()
        if r.customer_provider_id == made["Id"] and r.kind == "late_fee"
    )
    assert fee.status == "done"
