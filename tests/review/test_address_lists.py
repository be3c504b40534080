"""One provider email field may hold several addresses: QuickBooks lets a business write
them separated by commas (people type semicolons too) and sends its own emails to each. A
reminder reaches every one of them, the pre-flight check names them all, and a field that
holds only separators is no address: the email waits for review instead of failing at send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.review.address import email_addresses
from syncd.store.models import OutboxAction
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


@pytest.fixture
def qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world("quickbooks", tmp_path, store_url, port, inbox)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("ap@acme.test", ["ap@acme.test"]),
        (" ap@acme.test ", ["ap@acme.test"]),
        ("ap@acme.test, boss@acme.test", ["ap@acme.test", "boss@acme.test"]),
        ("ap@acme.test;boss@acme.test ; ", ["ap@acme.test", "boss@acme.test"]),
        ("ap@acme.test, AP@acme.test", ["ap@acme.test"]),
        ('"Smith, Jane" <jane@acme.test>, ap@acme.test', ["jane@acme.test", "ap@acme.test"]),
        ("Jane <jane@acme.test>; AP <ap@acme.test>", ["jane@acme.test", "ap@acme.test"]),
        (" , ; ", []),
        ("", []),
        (None, []),
    ],
)
def test_an_email_field_is_read_as_its_list_of_addresses(
    field: str | None, expected: list[str]
) -> None:
    assert email_addresses(field) == expected


def _held(world: World) -> list[OutboxAction]:
    return [r for r in world.outbox() if r.status == "awaiting_review" and r.hold_kind]


def _bill_invoices(world: World, customer_id: str, address: str) -> None:
    """Write ``address`` as the billing email of each of the customer's open invoices."""
    truth = world.bench.sandbox.control.truth()
    open_ids = [
        i["id"]
        for i in truth["invoices"]
        if i["customer_id"] == customer_id and i["status"] == "open" and Decimal(i["balance"]) > 0
    ]
    assert open_ids
    for invoice_id in open_ids:
        world.bench.sandbox.control.edit_invoice(
            invoice_id, fields={"BillEmail": {"Address": address}}
        )


def _customer_finding(world: World, customer_id: str) -> dict[str, object]:
    report = json.loads(world.cli("check", "--json", ok=False).stdout)
    (finding,) = [
        f
        for f in report["findings"]
        if f["check"] == "customer_email" and f["data"]["customer"] == customer_id
    ]
    return dict(finding)


def test_every_billing_address_on_the_invoice_receives_the_reminder(qbo: World) -> None:
    qbo.cli("run-once")
    first = _held(qbo)[0]
    customer = str(first.customer_provider_id)
    _bill_invoices(qbo, customer, " ap@billed.test; Owner@Billed.test , AP@billed.test,")

    qbo.cli("run-once")  # sync brings the billing addresses; the cycle lifts the hold
    released = {r.id: r for r in qbo.outbox()}[first.id]
    assert released.hold_kind is None and released.status == "awaiting_review"
    finding = _customer_finding(qbo, customer)
    assert finding["severity"] == "warning"
    assert "billing addresses ap@billed.test, Owner@Billed.test" in str(finding["detail"])

    qbo.cli("review", "approve", str(first.id), "--by", "alice")
    qbo.cli("run-once")
    digest = key_digest(first.idempotency_key)
    (sent,) = [m for m in qbo.inbox.messages if m.message.get(KEY_HEADER) == digest]
    assert sorted(sent.rcpt_tos) == ["Owner@Billed.test", "ap@billed.test", "ar@acme.test"]
    to = getaddresses(sent.message.get_all("To") or [])
    assert [address for _, address in to] == ["ap@billed.test", "Owner@Billed.test"]
    assert {r.id: r for r in qbo.outbox()}[first.id].status == "done"


def test_a_field_of_separators_only_is_no_address(qbo: World) -> None:
    qbo.cli("run-once")
    first = _held(qbo)[0]
    customer = str(first.customer_provider_id)
    qbo.bench.sandbox.control.edit_customer(customer, {"PrimaryEmailAddr": {"Address": " ;, "}})
    _bill_invoices(qbo, customer, " , ")

    qbo.cli("run-once")
    still = {r.id: r for r in qbo.outbox()}[first.id]
    assert still.status == "awaiting_review" and still.hold_kind == first.hold_kind
    assert "has no email address" in (still.review_reason or "")
    finding = _customer_finding(qbo, customer)
    assert finding["severity"] == "error" and "no email address" in str(finding["detail"])
    digest = key_digest(first.idempotency_key)
    assert not [m for m in qbo.inbox.messages if m.message.get(KEY_HEADER) == digest]


def _sent_for(world: World, action: OutboxAction) -> list[Any]:
    digest = key_digest(action.idempotency_key)
    return [m for m in world.inbox.messages if m.message.get(KEY_HEADER) == digest]


def test_a_field_with_display_names_is_sent_to_exactly_its_addresses(world: World) -> None:
    """``"Smith, Jane" <...>; Bob Jones <...>`` on the customer, as a bookkeeper pastes it
    from a mail program: the held reminder is released, and once approved it reaches both
    addresses, and only them (with the business's BCC), through a real SMTP server."""
    world.cli("run-once")
    first = _held(world)[0]
    customer = str(first.customer_provider_id)
    field = '"Smith, Jane" <jane@customer.test>; Bob Jones <bob@customer.test>'
    if world.provider == "quickbooks":
        world.bench.sandbox.control.edit_customer(
            customer, {"PrimaryEmailAddr": {"Address": field}}
        )
    else:
        world.bench.control.edit_contact(customer, email=field)

    world.cli("run-once")  # the sync brings the field; the cycle lifts the address hold
    released = {r.id: r for r in world.outbox()}[first.id]
    assert released.hold_kind is None, released.review_reason
    report = json.loads(world.cli("check", "--json", ok=False).stdout)
    assert not [
        f
        for f in report["findings"]
        if f["check"] == "customer_email" and f["data"]["customer"] == customer
    ]

    world.cli("review", "approve", str(first.id), "--by", "alice")
    world.cli("run-once")
    (sent,) = _sent_for(world, first)
    assert sorted(sent.rcpt_tos) == ["ar@acme.test", "bob@customer.test", "jane@customer.test"]
    to = getaddresses(sent.message.get_all("To") or [])
    assert [address for _, address in to] == ["jane@customer.test", "bob@customer.test"]
    assert {r.id: r for r in world.outbox()}[first.id].status == "done"


def test_a_billing_address_with_a_display_name_receives_the_reminder(qbo: World) -> None:
    """QuickBooks's ``BillEmail`` fallback goes through the same reader as the customer's
    own field: a display name there is an address too, and the reminder goes to it."""
    qbo.cli("run-once")
    first = _held(qbo)[0]
    _bill_invoices(qbo, str(first.customer_provider_id), '"Payable, Accounts" <ap@billed.test>')
    qbo.cli("run-once")
    assert {r.id: r for r in qbo.outbox()}[first.id].hold_kind is None
    qbo.cli("review", "approve", str(first.id), "--by", "alice")
    qbo.cli("run-once")
    (sent,) = _sent_for(qbo, first)
    assert sorted(sent.rcpt_tos) == ["ap@billed.test", "ar@acme.test"]
