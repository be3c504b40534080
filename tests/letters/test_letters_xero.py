"""A letter of demand on Xero's UK edition (the sandbox over HTTP, a real SMTP server): a
company debtor (Xero holds its tax number) two invoices past day 30 gets one letter whose
figures, read back from the PDF, are the provider's own; the note lands in each invoice's
history and the email carries the PDF."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.config import load_config
from syncd.store.ladder import Letter
from syncd.store.models import OutboxAction
from tests.connectors.xero import conftest as xero
from tests.letters.conftest import ESCALATE, LETTER_STEP
from tests.letters.test_letters_e2e import pdf_text
from tests.review.conftest import email_section
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def uk(tmp_path: Path, store_url: str) -> Iterator[tuple[Any, Inbox]]:
    with smtp_server() as (inbox, port):
        for bench in xero.make_bench(
            tmp_path, store_url, invoices=8, region="UK", minute_limit=5000
        ):
            text = bench.config.path.read_text(encoding="utf-8")
            text = text.replace('policy = "standard"', 'policy = "ladder"')
            text += email_section(port) + f'\n[letters]\nfolder = "{tmp_path / "letters"}"\n'
            text += LETTER_STEP.format(escalate=ESCALATE.format(letter="demand", days=14))
            bench.config.path.write_text(text, encoding="utf-8")
            bench.config = load_config(bench.config.path)
            yield bench, inbox


def test_xero_letter_of_demand(uk: tuple[Any, Inbox]) -> None:
    bench, inbox = uk
    control = bench.control
    today = bench.clock.now().date()
    truth = control.truth()
    contact = next(c for c in truth["contacts"] if c.get("email"))
    control.edit_contact(contact["contact_id"], tax_number="GB123456789")
    made = [
        control.create_invoice(
            contact_id=contact["contact_id"],
            status="AUTHORISED",
            currency="GBP",
            date=(today - timedelta(days=60)).isoformat(),
            due_date=(today - timedelta(days=due)).isoformat(),
            lines=[
                {
                    "description": "Design work",
                    "quantity": 1,
                    "unit_amount": amount,
                    "tax_type": "NONE",
                    "account_code": "200",
                }
            ],
        )
        for amount, due in (("640.00", 40), ("215.50", 33))
    ]
    control.add_payment(made[0]["invoice_id"], "40.00", on=today - timedelta(days=10))
    bench.syncer().backfill()
    now = bench.clock.now().isoformat()
    for _ in range(2):
        result = CliRunner().invoke(
            app, ["--config", str(bench.config.path), "--now", now, "run-once"]
        )
        # A seeded customer without an email address fails its reminder (exit 1): not ours.
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
    with bench.store.sessions() as s:
        letters = [
            x for x in s.scalars(select(Letter)) if x.customer_provider_id == contact["contact_id"]
        ]
    assert len(letters) == 1
    with bench.store.sessions() as s:
        mine = s.scalars(
            select(OutboxAction).where(OutboxAction.customer_provider_id == contact["contact_id"])
        ).all()
        assert mine and {(a.kind, a.status) for a in mine} <= {
            ("email", "done"),
            ("late_fee", "done"),
            ("escalate", "done"),
        }, [(a.kind, a.status, a.last_error) for a in mine]
    letter = letters[0]
    assert letter.template == "demand"
    text = pdf_text(letter.path)
    # The standard preset's 1.5% monthly late fee, charged on today's balance. Xero takes
    # no fee line on an invoice with a payment allocated, so the first invoice's fee went on
    # an invoice of its own (not yet due): the letter still demands it, as a charge.
    a_fee = (Decimal("600.00") * Decimal("0.015")).quantize(Decimal("0.01"))
    b_fee = (Decimal("215.50") * Decimal("0.015")).quantize(Decimal("0.01"))
    assert (a_fee, b_fee) == (Decimal("9.00"), Decimal("3.23"))
    expected = Decimal("640.00") - Decimal("40.00") + a_fee + Decimal("215.50") + b_fee
    assert letter.total == expected
    numbers = {m["invoice_id"] for m in made}
    extra = [
        i
        for i in control.truth()["invoices"]
        if i["invoice_id"] in letter.invoice_ids and i["invoice_id"] not in numbers
    ]
    assert [Decimal(i["total"]) for i in extra] == [a_fee]  # the fee invoice
    owed = {i["invoice_id"]: Decimal(i["amount_due"]) for i in control.truth()["invoices"]}
    assert sum(owed[i] for i in letter.invoice_ids) == expected  # the provider agrees
    for m in made:
        assert str(m["invoice_number"]) in text
    assert str(extra[0]["invoice_number"]) in text
    assert f"Total now due £{expected:,.2f}" in text
    assert "Less payments and credits received -£40.00" in text
    assert "£640.00 £40.00 £600.00" in text and "£218.73 £0.00 £218.73" in text
    assert f"Late payment fees £{a_fee + b_fee:,.2f}" in text
    assert f"Invoiced for goods and services £{Decimal('855.50'):,.2f}" in text
    # Xero gives no organisation email: the letter names the address the reminders come
    # from (the [email] sender), not a dangling "contact us or on <phone>".
    assert "To discuss payment, contact us at accounts@acme.test" in text
    assert "contact us or on" not in text

    notes = [w for w in control.writes()["history_notes"] if "Formal letter" in str(w)]
    ours = sorted(w["invoice_id"] for w in notes if w["invoice_id"] in letter.invoice_ids)
    assert ours == sorted(letter.invoice_ids) and len(ours) == 3
    assert all(
        str(letter.statement["reference"]) in w["details"]
        for w in notes
        if w["invoice_id"] in letter.invoice_ids
    )
    mails = [
        m
        for m in inbox.messages
        if "Formal demand" in str(m.message["Subject"]) and contact["email"] in m.rcpt_tos
    ]
    assert len(mails) == 1
    pdfs = [p for p in mails[0].message.walk() if p.get_content_type() == "application/pdf"]
    assert pdfs[0].get_payload(decode=True) == Path(letter.path).read_bytes()
