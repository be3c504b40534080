"""Reminders to a customer without an email address wait for review with that reason, even
from a bulk approval, and come back on the org's ordinary review path once a sync brings the
address (here the org's default review, ``all``, holds them again for a human)."""

from __future__ import annotations

from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.store.models import HoldKind, OutboxAction
from tests.review.conftest import World


def _no_address(world: World) -> list[OutboxAction]:
    return [r for r in world.outbox() if r.status == "awaiting_review" and r.hold_kind]


def _give_address(world: World, customer_id: str, email: str) -> None:
    if world.provider == "quickbooks":
        world.bench.sandbox.control.edit_customer(
            customer_id, {"PrimaryEmailAddr": {"Address": email}}
        )
    else:
        world.bench.control.edit_contact(customer_id, email=email)


def test_no_address_holds_survive_bulk_approval_until_the_address_arrives(world: World) -> None:
    shown = " ".join(world.cli("run-once").stdout.split())
    waiting = [r for r in world.outbox() if r.status == "awaiting_review"]
    assert (
        f"{world.org}: {len(waiting)} of the actions queued by this run wait for review "
        "before anything is sent; see `syncd review`."
    ) in shown
    held = _no_address(world)
    assert held, "the seed has customers without an email address"
    assert all(r.kind == "email" and r.hold_kind == HoldKind.ADDRESS for r in held)
    assert all("has no email address" in (r.review_reason or "") for r in held)
    others = [r for r in world.outbox() if r.id not in {h.id for h in held}]
    assert others and not [r for r in others if "has no email address" in (r.review_reason or "")]

    refused = world.cli("review", "approve", str(held[0].id), "--by", "alice", ok=False)
    assert refused.exit_code != 0 and "still has no usable email address" in refused.output
    world.cli("review", "approve", "--all", "--by", "alice")
    after = {r.id: r for r in world.outbox()}
    assert all(after[r.id].status == "awaiting_review" for r in held)
    ids = {r.id for r in held}
    assert not [r for r in after.values() if r.status == "awaiting_review" and r.id not in ids]

    first = held[0]
    _give_address(world, str(first.customer_provider_id), "found@customer.test")
    world.cli("run-once")  # sync brings the address; the cycle releases the hold
    released = {r.id: r for r in world.outbox()}[first.id]
    assert released.status == "awaiting_review"  # review = "all" (the default) holds it
    assert "has no email address" not in (released.review_reason or "")
    assert released.hold_kind is None, "held now by the org's review: only a human ends it"
    world.cli("review", "approve", str(first.id), "--by", "alice")
    world.cli("run-once")
    digest = key_digest(first.idempotency_key)
    sent = [m for m in world.inbox.messages if m.message.get(KEY_HEADER) == digest]
    assert len(sent) == 1 and "found@customer.test" in sent[0].rcpt_tos
    world.cli("run-once")
    assert [m for m in world.inbox.messages if m.message.get(KEY_HEADER) == digest] == sent


def test_run_once_tells_a_person_about_an_approved_email_held_at_send_time(world: World) -> None:
    """Approved with a usable address, the email finds "n/a" at send time: run-once's table
    counts it under ``held`` and says in words what happened and where to look."""
    world.cli("run-once")
    first = _no_address(world)[0]
    _give_address(world, str(first.customer_provider_id), "found@customer.test")
    world.cli("run-once")  # the sync brings the address; review = "all" holds it for a human
    world.cli("review", "approve", str(first.id), "--by", "alice")
    _give_address(world, str(first.customer_provider_id), "n/a")

    shown = world.cli("run-once").stdout  # the sync brings "n/a"; the executor holds it
    held = {r.id: r for r in world.outbox()}[first.id]
    assert (held.status, held.hold_kind) == ("awaiting_review", HoldKind.ADDRESS)
    lines = [line.strip() for line in shown.splitlines()]
    header = next(line for line in lines if line.startswith("org "))
    row = next(line for line in lines if line.startswith(f"{world.org} "))
    counted = header.split()[2:]  # the numbers after org and sync (no error column here)
    cells = dict(zip(counted, row.split()[-len(counted) :], strict=True))
    assert cells["held"] == "1" and cells["failed"] == "0"
    assert (
        f"{world.org}: 1 email was not sent and held: the customer's email address was "
        "removed or became unusable after the email was queued or approved."
    ) in " ".join(shown.split())
    assert "see `syncd review`" in shown
