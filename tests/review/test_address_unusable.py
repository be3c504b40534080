"""A customer's email field holding something that is not an address ("n/a", "none",
"accounts at acme", "x@", a lone name, or one such entry beside good addresses) is no usable
address: the reminder waits for review with a reason naming the value (instead of failing
at send time), the pre-flight check names the customer and the value, and a later sync that
brings a usable address releases the email, which then reaches that address."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest
from syncd.review.address import (
    NO_ADDRESS,
    address_problem,
    address_reason,
    bill_emails,
    email_addresses,
    read_email_field,
    unaddressed_customers,
)
from syncd.store.models import HoldKind, Invoice, OutboxAction
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


@pytest.mark.parametrize(
    "field",
    [
        "n/a",
        "N/A",
        "none",
        "-",
        "accounts at acme",
        "x@",
        "@acme.test",
        "Jane Smith",
        "jane@acme",
        "jane@localhost",
        "jane@[10.0.0.1]",
        "jane@acme.123",
        "jane@-acme.test",
        "jane smith@acme.test",
        "a@b@c.test",
        "Jane <jane@acme.test",
        "Jane <jane@acme.test> extra",
        "Jane <jane@localhost>",
        "Jane <>",
        "a <b> <c@acme.test>",
    ],
)
def test_a_field_that_is_not_an_address_is_no_usable_address(field: str) -> None:
    assert email_addresses(field) == []
    assert read_email_field(field).bad == (field,)
    assert address_problem(field) == (
        f"has no usable email address: {field!r} is not an email address"
    )
    assert f"{field!r} is not an email address" in address_reason("7", field)


@pytest.mark.parametrize(
    "field",
    ["ap@acme.test", "Jane.O'Neil+ar@Acme.Co.UK", "ap@b\u00fccher.example", "x@a-b.example"],
)
def test_an_address_is_usable(field: str) -> None:
    assert email_addresses(f" {field} ") == [field]
    assert read_email_field(field).bad == ()


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("Jane Smith <jane@acme.test>", ["jane@acme.test"]),
        ('"Smith, Jane" <jane@acme.test>', ["jane@acme.test"]),
        ("<jane@acme.test>", ["jane@acme.test"]),
        (
            '"Smith, Jane" <jane@acme.test>; Bob <bob@acme.test>',
            ["jane@acme.test", "bob@acme.test"],
        ),
        ("J\u00f6rg M\u00fcller <jorg@acme.test>, JORG@acme.test", ["jorg@acme.test"]),
    ],
)
def test_an_address_with_a_display_name_is_usable(field: str, expected: list[str]) -> None:
    """As people copy it from their mail program: the bookkeeper would send to it."""
    assert email_addresses(field) == expected
    assert read_email_field(field).bad == ()
    assert bill_emails({"BillEmail": {"Address": field}}) == expected


def test_a_display_name_beside_a_bad_entry_holds_the_field_naming_only_the_bad_one() -> None:
    """The comma inside the quotes is part of the name; the one outside separates a lone
    name, which is not an address."""
    field = '"Smith, Jane" <jane@acme.test>, Jane, Bob <bob@acme.test>'
    read = read_email_field(field)
    assert read.addresses == ("jane@acme.test", "bob@acme.test") and read.bad == ("Jane",)
    assert email_addresses(field) == []
    assert address_problem(field) == (
        f"has no usable email address: 'Jane' is not an email address (the field reads {field!r})"
    )


def test_one_bad_entry_beside_good_ones_makes_the_field_unusable_and_is_named() -> None:
    field = "ap@acme.test; boss@acme, n/a"
    read = read_email_field(field)
    assert read.addresses == ("ap@acme.test",) and read.bad == ("boss@acme", "n/a")
    assert email_addresses(field) == []
    assert address_reason("7", field) == (
        "customer 7 has no usable email address: 'boss@acme', 'n/a' are not email addresses "
        "(the field reads 'ap@acme.test; boss@acme, n/a'): correct it at the provider; "
        "the next sync releases this email"
    )


def test_a_bad_customer_field_falls_back_to_the_billing_field_which_is_named_if_bad() -> None:
    assert address_problem(None, [None, "accounts at acme"]) == (
        "has no usable email address: 'accounts at acme' is not an email address"
    )
    assert address_problem("", [None, " , "]) == NO_ADDRESS
    assert address_reason("7", None).startswith(f"customer 7 {NO_ADDRESS}: add one")


def _set_email(world: World, customer_id: str, email: str) -> None:
    if world.provider == "quickbooks":
        world.bench.sandbox.control.edit_customer(
            customer_id, {"PrimaryEmailAddr": {"Address": email}}
        )
    else:
        world.bench.control.edit_contact(customer_id, email=email)


def _debtor(world: World) -> str:
    """A customer with an invoice past due (so the first cycle emails them) and no address
    on file, neither their own nor a billing one (QuickBooks copies the customer's address
    onto each invoice as it is made, and the mailer falls back to that), from the store."""
    today = world.now().date()
    with world.store.sessions() as s:
        org_id = s.scalars(select(Invoice.org_id)).first()
        assert org_id is not None
        overdue = s.scalars(
            select(Invoice.customer_provider_id).where(
                Invoice.status == "open", Invoice.balance > 0, Invoice.due_date < today
            )
        ).all()
        return min(unaddressed_customers(s, org_id, overdue))


def _emails_of(world: World, customer_id: str) -> list[OutboxAction]:
    return [
        r for r in world.outbox() if r.kind == "email" and r.customer_provider_id == customer_id
    ]


def _finding(world: World, customer_id: str) -> dict[str, object]:
    result = world.cli("check", "--json", ok=False)
    assert "Traceback" not in result.output
    (finding,) = [
        f
        for f in json.loads(result.stdout)["findings"]
        if f["check"] == "customer_email" and f["data"]["customer"] == customer_id
    ]
    return dict(finding)


@pytest.mark.parametrize("bad", ["n/a", "found@customer.test, boss@acme"])
def test_a_bad_address_holds_the_reminder_naming_it_until_a_sync_brings_a_good_one(
    world: World, bad: str
) -> None:
    customer = _debtor(world)
    _set_email(world, customer, bad)
    world.cli("run-once")  # the sync brings the bad value; the cycle plans and holds

    emails = _emails_of(world, customer)
    assert emails, "the customer has an overdue invoice: the first cycle emails them"
    assert all(r.status == "awaiting_review" for r in emails)
    assert all(r.hold_kind == HoldKind.ADDRESS for r in emails)
    named = "'n/a' is not" if bad == "n/a" else "'boss@acme' is not"
    assert all(named in (r.review_reason or "") for r in emails)
    assert not [r for r in world.outbox() if r.status == "failed"]

    finding = _finding(world, customer)
    assert finding["severity"] == "error" and named in str(finding["detail"])
    assert finding["data"]["customer_name"] in str(finding["detail"])  # type: ignore[index]

    refused = world.cli("review", "approve", str(emails[0].id), "--by", "alice", ok=False)
    assert refused.exit_code != 0

    _set_email(world, customer, "found@customer.test")
    world.cli("run-once")  # the usable address arrives; the hold is lifted
    after = {r.id: r for r in world.outbox()}
    assert all(after[r.id].hold_kind is None for r in emails)
    assert all(named not in (after[r.id].review_reason or "") for r in emails)
    first = emails[0]
    world.cli("review", "approve", str(first.id), "--by", "alice")
    world.cli("run-once")
    digest = key_digest(first.idempotency_key)
    (sent,) = [m for m in world.inbox.messages if m.message.get(KEY_HEADER) == digest]
    assert "found@customer.test" in sent.rcpt_tos and "boss@acme" not in sent.rcpt_tos


@pytest.fixture
def qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world("quickbooks", tmp_path, store_url, port, inbox)


def test_a_bad_customer_field_with_a_billing_address_is_a_warning_naming_both(qbo: World) -> None:
    """The mailer falls back to the invoice's billing address, as for a blank field: the
    reminder goes there, and the check says the customer's own field needs correcting."""
    customer = _debtor(qbo)
    _set_email(qbo, customer, "accounts at acme")
    truth = qbo.bench.sandbox.control.truth()
    for invoice in truth["invoices"]:
        if invoice["customer_id"] == customer and invoice["status"] == "open":
            qbo.bench.sandbox.control.edit_invoice(
                invoice["id"], fields={"BillEmail": {"Address": "ap@billed.test"}}
            )
    qbo.cli("run-once")
    assert not [r for r in _emails_of(qbo, customer) if r.hold_kind]
    finding = _finding(qbo, customer)
    assert finding["severity"] == "warning"
    assert (
        "the customer's email field is not usable ('accounts at acme' is not an email "
        "address); reminders go to the invoice's billing address ap@billed.test"
    ) in str(finding["detail"])
    assert finding["data"]["unusable"] == ["accounts at acme"]  # type: ignore[index]


def test_a_held_email_names_the_bad_value_a_later_sync_brings(world: World) -> None:
    """Held while the field was empty, the email is still held once the field says "none",
    and its reason now names that value (what the person fixing it will look for)."""
    customer = _debtor(world)
    world.cli("run-once")
    emails = _emails_of(world, customer)
    assert emails and all(NO_ADDRESS in (r.review_reason or "") for r in emails)
    _set_email(world, customer, "none")
    world.cli("run-once")
    after = _emails_of(world, customer)
    assert [r.id for r in after] == [r.id for r in emails]
    assert all(r.hold_kind == HoldKind.ADDRESS for r in after)
    assert all("'none' is not an email address" in (r.review_reason or "") for r in after)
