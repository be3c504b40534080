"""Review holds everything by default, against both sandboxes, a real SMTP server and the CLI:
``run-once`` sends and writes nothing; approving one customer sends exactly that customer's
email; a second ``run-once`` sends nothing; a skipped action never runs and is never planned
again."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import update

from syncd.connections import org_id_for
from syncd.dunning.cycle import run_cycle
from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.store.models import AuditEntry, DunningState, OutboxAction
from tests.review.conftest import World

JSON_FIELDS = {
    "id", "org", "customer", "customer_name", "invoice", "number", "kind", "step",
    "amount", "currency", "subject",
}  # fmt: skip
PROVIDER_KINDS = {"note", "provider_email", "late_fee", "interest", "compensation"}


def write_count(world: World) -> int:
    return sum(len(v) for v in world.writes().values())


def pick_customer(items: list[dict[str, Any]]) -> str:
    """A customer whose reminder can be delivered (has an address, renders)."""
    for item in items:
        if item["kind"] == "email" and item["subject"] and not item["problem"]:
            return str(item["customer"])
    raise AssertionError("no deliverable reminder in the queue")


def test_default_review_holds_everything_until_one_customer_is_approved(world: World) -> None:
    writes_before = write_count(world)
    world.cli("run-once")
    rows = world.outbox()
    assert rows, "the seeded company has overdue invoices"
    assert {r.status for r in rows} == {"awaiting_review"}
    assert all(r.review_reason for r in rows)
    assert world.inbox.messages == []
    assert write_count(world) == writes_before

    items = world.review_json()
    assert len(items) == len(rows)
    assert all(set(i) >= JSON_FIELDS for i in items)
    assert {i["org"] for i in items} == {world.org}
    fee = next((i for i in items if i["kind"] == "late_fee"), None)
    if fee is not None:  # a fee names its invoice and its amount
        assert fee["invoice"] and fee["amount"] and fee["currency"]
        assert fee["fee"]["description"].startswith("Late fee: ")
    customer = pick_customer(items)
    mine = {i["id"] for i in items if i["customer"] == customer}

    approved = world.cli("review", "approve", "--customer", customer, "--by", "alice")
    assert f"{len(mine)} action(s) approved" in approved.stdout
    world.cli("run-once")
    after = {r.id: r for r in world.outbox()}
    assert all(after[i].status == "awaiting_review" for i in after if i not in mine)
    assert all(after[i].status in ("done", "skipped") for i in mine), [
        (after[i].kind, after[i].status, after[i].last_error) for i in mine
    ]
    sent = [after[i] for i in mine if after[i].kind == "email" and after[i].status == "done"]
    assert len(sent) >= 1
    assert sorted(m.message[KEY_HEADER] for m in world.inbox.messages) == sorted(
        key_digest(r.idempotency_key) for r in sent
    )
    written = [r for r in after.values() if r.kind in PROVIDER_KINDS and r.status == "done"]
    assert {r.customer_provider_id for r in written} <= {customer}
    writes_after = write_count(world)
    assert writes_after - writes_before >= len(written)
    with world.store.sessions() as s:
        audit = list(s.query(AuditEntry).filter(AuditEntry.event == "action.approved"))
    assert len(audit) == len(mine) and {a.actor for a in audit} == {"alice"}
    assert all(after[i].reviewed_by == "alice" and after[i].reviewed_at for i in mine)

    world.cli("run-once")
    assert len(world.inbox.messages) == len(sent)
    assert write_count(world) == writes_after


def test_skipped_actions_never_run_and_are_never_planned_again(world: World) -> None:
    world.cli("run-once")
    items = world.review_json()
    customer = pick_customer(items)
    mine = [i for i in items if i["customer"] == customer]
    out = world.cli("review", "skip", "--customer", customer, "--reason", "disputed by phone")
    assert f"{len(mine)} action(s) skipped" in out.stdout
    skipped = {r.id: r for r in world.outbox() if r.status == "skipped"}
    assert set(skipped) == {i["id"] for i in mine}
    assert all("disputed by phone" in (r.last_error or "") for r in skipped.values())

    # Force every invoice to be planned again (as after a config change), a day later.
    with world.store.sessions.begin() as s:
        s.execute(update(DunningState).values(plan_fingerprint=None))
    org_id = org_id_for(world.store, world.config, world.org, world.bench.clock)
    run_cycle(world.store, world.config, world.org, org_id, world.now())

    def what(r: OutboxAction) -> set[tuple[str, str | None, str | None]]:
        items = r.payload.get("invoices") or []
        if items:  # a (grouped) email: one step per invoice in it
            return {(r.kind, i["provider_id"], i["step"]) for i in items}
        return {(r.kind, r.invoice_provider_id, r.payload.get("step"))}

    fired = set().union(*(what(r) for r in skipped.values()))
    again = [
        (r.kind, r.idempotency_key, r.status)
        for r in world.outbox()
        if r.id not in skipped and what(r) & fired
    ]
    assert again == []

    world.cli("review", "approve", "--all")
    world.cli("run-once")  # nothing fails: customers without an address stay held
    after = {r.id: r for r in world.outbox()}
    assert all(after[i].status == "skipped" for i in skipped)
    skipped_digests = {key_digest(r.idempotency_key) for r in skipped.values()}
    assert not skipped_digests & {m.message[KEY_HEADER] for m in world.inbox.messages}
    statuses = Counter(r.status for r in after.values())
    assert statuses["failed"] == 0
    waiting = [r for r in after.values() if r.status == "awaiting_review"]
    assert all("has no email address" in (r.review_reason or "") for r in waiting)


def test_review_errors_are_one_line_and_change_nothing(world: World) -> None:
    world.cli("run-once")
    before = [(r.id, r.status) for r in world.outbox()]
    for args in (
        ("review", "approve"),
        ("review", "approve", "999999"),
        ("review", "approve", "--customer", "nobody-at-all"),
        ("review", "skip", "--all", "--reason", "  "),
        ("review", "--org", "nope"),
    ):
        result = world.cli(*args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert [(r.id, r.status) for r in world.outbox()] == before
