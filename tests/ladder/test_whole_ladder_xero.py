"""The whole ladder on Xero's UK edition, as ``test_whole_ladder`` walks it on QuickBooks: the
sandbox over HTTP, a real SMTP server and the CLI as a user types it. One invoice climbs
every rung (a reminder and a late-fee line, a payment plan that breaks on a missed
instalment, a letter of demand read back from its PDF, a hand-off whose archive holds the
records) while another customer's invoice is settled for less and closed by exactly one
credit note, leaving nothing owed at Xero.

Set ``LADDER_TRANSCRIPT=FILE`` to keep every command and its output."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from syncd.cli.app import app
from syncd.config import load_config
from syncd.store.ladder import Letter
from tests.connectors.xero import conftest as xero
from tests.ladder.test_whole_ladder import User, outbox
from tests.letters.conftest import ESCALATE, LETTER_STEP
from tests.letters.test_letters_e2e import pdf_text
from tests.review.conftest import email_section
from tests.support.smtp import Inbox, smtp_server

DAY = 86_400.0


@dataclass
class XeroLadder:
    bench: xero.Bench
    inbox: Inbox

    @property
    def today(self) -> date:
        return self.bench.clock.now().date()

    def cli(self, *args: str, ok: bool = True) -> Any:
        now = self.bench.clock.now().isoformat()
        result = CliRunner().invoke(
            app, ["--config", str(self.bench.config.path), "--now", now, *args]
        )
        if ok:
            assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        return result

    def advance_days(self, days: int) -> None:
        self.bench.control.advance(days * DAY)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return next(i for i in self.bench.truth()["invoices"] if i["invoice_id"] == invoice_id)

    def owed(self, invoice_id: str) -> Decimal:
        return Decimal(self.invoice(invoice_id)["amount_due"])

    def new_invoice(self, contact_id: str, net: str, issued_ago: int, due_ago: int) -> Any:
        return self.bench.control.create_invoice(
            contact_id=contact_id,
            status="AUTHORISED",
            currency="GBP",
            date=(self.today - timedelta(days=issued_ago)).isoformat(),
            due_date=(self.today - timedelta(days=due_ago)).isoformat(),
            lines=[
                {
                    "description": "Joinery work",
                    "quantity": 1,
                    "unit_amount": net,
                    "tax_type": "OUTPUT2",  # UK standard rate, 20%
                    "account_code": "200",
                }
            ],
        )


@pytest.fixture
def ladder(tmp_path: Path, store_url: str) -> Iterator[XeroLadder]:
    """A UK Xero company whose policy ends in a letter of demand, with a settlement account."""
    with smtp_server() as (inbox, port):
        for bench in xero.make_bench(
            tmp_path,
            store_url,
            invoices=8,
            region="UK",
            minute_limit=5000,
            settlement_account_code="200",
        ):
            text = bench.config.path.read_text(encoding="utf-8")
            text = text.replace('policy = "standard"', 'policy = "ladder"')
            text += email_section(port) + f'\n[letters]\nfolder = "{tmp_path / "letters"}"\n'
            text += LETTER_STEP.format(escalate=ESCALATE.format(letter="demand", days=14))
            bench.config.path.write_text(text, encoding="utf-8")
            bench.config = load_config(bench.config.path)
            yield XeroLadder(bench, inbox)


def _two_fresh_customers(w: XeroLadder) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two customers with an email address and nothing else on their account, so that every
    figure below is this test's own."""
    truth = w.bench.truth()
    used = {i["contact_id"] for i in truth["invoices"]}
    used |= {p.get("contact_id") for p in truth["payments"] + truth["prepaid"]}
    free = [
        c
        for c in truth["contacts"]
        if c["email"] and c["status"] == "ACTIVE" and c["contact_id"] not in used
    ]
    assert len(free) >= 2, "the seeded UK company should have two customers without invoices"
    works, other = free[0], free[1]
    w.bench.control.edit_contact(works["contact_id"], tax_number="GB123456789")  # a business
    return works, other


def test_one_invoice_climbs_the_whole_ladder_on_xero_and_another_is_settled(
    ladder: XeroLadder, tmp_path: Path
) -> None:
    w = ladder
    user = User(w)  # type: ignore[arg-type]
    works, other = _two_fresh_customers(w)
    inv = w.new_invoice(works["contact_id"], "1200.00", 45, 19)
    settled = w.new_invoice(other["contact_id"], "240.00", 40, 17)
    start = w.today
    total = Decimal("1440.00")  # 1,200.00 + 20% VAT, as Xero computed it
    assert Decimal(inv["total"]) == total
    fee = (total * Decimal("0.015")).quantize(Decimal("0.01"))  # the standard 1.5% at day 14

    # Rung 1: a reminder and a late fee, as a line on the invoice (it has no payment yet).
    user("run-once", ok=False)  # a seeded customer has no email address
    kinds = [r.kind for r in outbox(w, works["contact_id"]) if r.status == "done"]
    assert "email" in kinds and "late_fee" in kinds
    assert works["email"] in {r for m in w.inbox.messages for r in m.rcpt_tos}
    assert w.owed(inv["invoice_id"]) == total + fee == Decimal("1461.60")

    # Rung 2: a payment plan, agreed in writing once a person approves the confirmation.
    plan = user.json(
        "payment-plan", "create", "--org", "xero", "--customer", works["name"],
        "--invoice", inv["invoice_number"], "--instalments", "2", "--every", "14days",
        "--first", (start + timedelta(days=1)).isoformat(),
    )  # fmt: skip
    amounts = [Decimal(i["amount"]) for i in plan["instalments"]]
    assert amounts == [Decimal("730.80")] * 2
    user("run-once", ok=False)
    assert "plan_confirmation" in user("review")
    user("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    user("run-once", ok=False)
    confirmations = [r for r in outbox(w, works["contact_id"]) if r.kind == "plan_confirmation"]
    assert [r.status for r in confirmations] == ["done"]

    # Meanwhile the other customer settles for less, and pays in time.
    agreed = Decimal("200.00")
    seeded = {c["credit_note_id"] for c in w.bench.truth()["credit_notes"]}
    owed = w.owed(settled["invoice_id"])
    offer = user.json(
        "settle", "--org", "xero", "--invoice", settled["invoice_number"], "--amount",
        str(agreed), "--pay-by", (start + timedelta(days=10)).isoformat(),
        "--note", "agreed on the phone",
    )  # fmt: skip
    assert Decimal(offer["write_off"]) == owed - agreed
    w.advance_days(3)
    w.bench.control.add_payment(settled["invoice_id"], str(agreed))

    # Works pays nothing: past the first instalment's 5 grace days the plan breaks.
    w.advance_days(4)
    user("run-once", ok=False)
    assert user.json("payment-plan", "show", str(plan["id"]), "--org", "xero")["status"] == (
        "broken"
    )
    assert user.json("settle", "show", str(offer["id"]), "--org", "xero")["status"] == "met"
    user("review", "approve", "--kind", "credit", "--by", "alice")
    user("run-once", ok=False)
    credits = [r for r in outbox(w, other["contact_id"]) if r.kind == "credit"]
    assert [r.status for r in credits] == ["done"], [r.last_error for r in credits]
    notes = [c for c in w.bench.truth()["credit_notes"] if c["credit_note_id"] not in seeded]
    assert len(notes) == 1 and notes[0]["contact_id"] == other["contact_id"]
    assert Decimal(notes[0]["total"]) == owed - agreed
    assert w.owed(settled["invoice_id"]) == 0

    # Rung 3: dunning resumes where it stood; the plan's 7 days come off the dunning clock,
    # so the day-30 step (final notice and letter of demand) comes at 40 days overdue.
    w.advance_days(7)
    user("run-once", ok=False)
    assert not [r for r in outbox(w, works["contact_id"]) if r.kind == "escalate"]
    w.advance_days(7)
    user("run-once", ok=False)
    user("run-once", ok=False)
    with w.bench.store.sessions() as s:
        letter = s.scalars(
            select(Letter).where(Letter.customer_provider_id == works["contact_id"])
        ).one()
        s.expunge_all()
    assert letter.template == "demand" and letter.total == total + fee
    text = re.sub(r"\s+", " ", pdf_text(letter.path))
    assert inv["invoice_number"] in text
    assert f"Late payment fees £{fee:,.2f}" in text
    assert f"Total now due £{total + fee:,.2f}" in text
    assert letter.id in [p["id"] for p in user.json("letters", "--pending")]
    user("letters", "mark-sent", str(letter.id))

    # Rung 4: the hand-off; the referral note waits for approval, then nothing automatic.
    case = tmp_path / "case.zip"
    made = user.json(
        "handoff", "--org", "xero", "--customer", works["name"], "--to", "Northern Recoveries",
        "--out", str(case), "--by", "carol",
    )  # fmt: skip
    assert Decimal(made["balance"]) == total + fee
    names = set(zipfile.ZipFile(case).namelist())
    assert {
        "statement.csv",
        "statement.pdf",
        "communications.csv",
        "timeline.json",
        f"invoices/{inv['invoice_number']}.json",
        f"letters/{Path(letter.path).name}",
    } <= names
    referral = f"xero:handoff/{made['handoff']}:{inv['invoice_id']}:note"
    rows = outbox(w, works["contact_id"])
    assert [r.status for r in rows if r.idempotency_key == referral] == ["awaiting_review"]
    user("review", "approve", "--customer", works["contact_id"], "--all", "--by", "carol")
    user("run-once", ok=False)
    rows = outbox(w, works["contact_id"])
    assert [r.status for r in rows if r.idempotency_key == referral] == ["done"]
    history = [
        n for n in w.bench.control.writes()["history_notes"] if n["invoice_id"] == inv["invoice_id"]
    ]
    assert any("Northern Recoveries" in json.dumps(n) for n in history)
    before = len(rows)
    w.advance_days(14)
    user("run-once", ok=False)
    assert len(outbox(w, works["contact_id"])) == before  # nothing automatic after a hand-off
    user("handoff", "status", "--org", "xero")
    user("customer", "show", "--org", "xero", works["contact_id"])
    user.keep()
