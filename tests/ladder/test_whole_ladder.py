"""Issue 17's "done means", end to end on the QuickBooks GB sandbox over HTTP, a real SMTP
server and the CLI exactly as a user types it (hidden ``--now`` clock, holds approved with
``syncd review approve``): one invoice climbs the whole ladder (reminders and a late fee, a
payment plan that breaks on a missed instalment, a demand letter read back from its PDF, a
hand-off whose archive holds the records) while another customer's invoice is settled for
less and closed by exactly one credit note, leaving a zero balance at the provider.

Set ``LADDER_TRANSCRIPT=FILE`` to keep every command and its output (the walkthrough)."""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from syncd.config import load_config
from syncd.store.ladder import Letter
from syncd.store.models import OutboxAction
from tests.letters.conftest import LetterWorld, make_world

VAT = Decimal("1.20")  # the GB sandbox company's standard rate on the joinery lines
FEE = Decimal("0.015")  # the standard preset's late fee, charged once at day 14
CENT = Decimal("0.01")


class User:
    """Types commands into the CLI and keeps a transcript of them."""

    def __init__(self, w: LetterWorld) -> None:
        self.w = w
        self.lines: list[str] = []

    def __call__(self, *args: str, ok: bool = True) -> str:
        result = self.w.cli(*args, ok=ok)
        shown = " ".join(a if re.fullmatch(r"[\w./:@-]+", a) else repr(a) for a in args)
        self.lines += [f"$ syncd --now {self.w.bench.clock.now().isoformat()} {shown}"]
        self.lines += [result.stdout.rstrip(), ""]
        return str(result.stdout)

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))

    def keep(self) -> None:
        target = os.environ.get("LADDER_TRANSCRIPT")
        if target:
            Path(target).write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def outbox(w: LetterWorld, customer: str) -> list[OutboxAction]:
    with w.bench.store.sessions() as s:
        rows = s.scalars(
            select(OutboxAction)
            .where(OutboxAction.customer_provider_id == customer)
            .order_by(OutboxAction.id)
        )
        found = list(rows)
        s.expunge_all()
        return found


def balance(w: LetterWorld, invoice_id: str) -> Decimal:
    truth = {t["id"]: t for t in w.bench.sandbox.control.truth()["invoices"]}
    return Decimal(str(truth[invoice_id]["balance"]))


def credit_memos(w: LetterWorld) -> list[dict[str, Any]]:
    return list(w.bench.sandbox.control.truth()["credit_memos"])


def settlement_ready(w: LetterWorld) -> None:
    """A settlement's credit needs an item to book the difference to; QuickBooks companies
    that apply credits automatically would put it on the oldest invoice instead."""
    path = w.bench.config.path
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("[orgs.options]\n", '[orgs.options]\nsettlement_item_id = "1"\n'),
        encoding="utf-8",
    )
    w.bench.config = load_config(path)
    w.bench.sandbox.control.settings(auto_apply_credit=False)


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[LetterWorld]:
    """Jane Doe (an individual, two invoices) and Widget Works Ltd (a company, one invoice)
    on a GB QuickBooks company; the last rung of the policy is a letter of demand."""
    yield from make_world(tmp_path, store_url)


def test_one_invoice_climbs_the_whole_ladder_and_another_is_settled(
    world: LetterWorld, tmp_path: Path
) -> None:
    w = world
    settlement_ready(w)
    user = User(w)
    works, jane = w.works, w.jane
    (inv,) = works.invoices  # 1200.00 + VAT, 19 days overdue
    settled = jane.invoices[1]  # 240.00 + VAT, 17 days overdue
    start = w.today

    # Rung 1: reminders and the late fee.
    user("run-once")
    kinds = [r.kind for r in outbox(w, works.id) if r.status == "done"]
    assert "email" in kinds and "late_fee" in kinds
    assert "widget@debtor.test" in {r for m in w.inbox.messages for r in m.rcpt_tos}
    total = Decimal("1200.00") * VAT
    fee = (total * FEE).quantize(CENT)
    assert balance(w, inv["Id"]) == total + fee == Decimal("1461.60")

    # Rung 2: a payment plan, agreed in writing once a person approves the confirmation.
    plan = user.json(
        "payment-plan", "create", "--org", "qbo", "--customer", works.name,
        "--invoice", inv["DocNumber"], "--instalments", "2", "--every", "14days",
        "--first", (start + timedelta(days=1)).isoformat(),
    )  # fmt: skip
    amounts = [Decimal(i["amount"]) for i in plan["instalments"]]
    assert sum(amounts) == total + fee and amounts == [Decimal("730.80")] * 2
    user("run-once")
    queue = user("review")
    assert "plan_confirmation" in queue and "step None" not in queue
    user("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    user("run-once")
    confirmations = [r for r in outbox(w, works.id) if r.kind == "plan_confirmation"]
    assert [r.status for r in confirmations] == ["done"]

    # Meanwhile Jane settles her second invoice for less, and pays it in time.
    agreed = Decimal("200.00")
    seeded = {m["id"] for m in credit_memos(w)}  # the seeded company has credit memos of its own
    offer = user.json(
        "settle", "--org", "qbo", "--invoice", settled["DocNumber"], "--amount", str(agreed),
        "--pay-by", (start + timedelta(days=10)).isoformat(), "--note", "agreed on the phone",
    )  # fmt: skip
    owed = balance(w, settled["Id"])
    assert Decimal(offer["write_off"]) == owed - agreed
    w.bench.sandbox.control.advance_clock(days=3)
    w.bench.sandbox.control.add_payment(
        [{"invoice_id": settled["Id"], "amount": str(agreed)}], customer_id=jane.id
    )

    # Works pays nothing: past the first instalment's 5 grace days the plan breaks.
    w.bench.sandbox.control.advance_clock(days=4)
    user("run-once", ok=False)
    shown = user.json("payment-plan", "show", str(plan["id"]), "--org", "qbo")
    assert shown["status"] == "broken"
    assert user.json("settle", "show", str(offer["id"]), "--org", "qbo")["status"] == "met"
    user("review", "approve", "--kind", "credit", "--by", "alice")
    user("run-once", ok=False)
    credits = [r for r in outbox(w, jane.id) if r.kind == "credit"]
    assert [r.status for r in credits] == ["done"]
    memos = [m for m in credit_memos(w) if m["id"] not in seeded]
    assert len(memos) == 1 and memos[0]["customer_id"] == jane.id
    assert Decimal(str(memos[0]["total"])) == owed - agreed and memos[0]["remaining"] == "0.00"
    assert balance(w, settled["Id"]) == 0

    # Rung 3: dunning resumed where it stood; the plan's 7 days come off the dunning clock,
    # so the day-30 step (final notice and letter of demand) comes at 40 days overdue.
    w.bench.sandbox.control.advance_clock(days=7)
    user("run-once")
    assert not [r for r in outbox(w, works.id) if r.kind == "escalate"]
    w.bench.sandbox.control.advance_clock(days=7)
    user("run-once")
    user("run-once")
    with w.bench.store.sessions() as s:
        letter = s.scalars(select(Letter).where(Letter.customer_provider_id == works.id)).one()
        s.expunge_all()
    assert letter.template == "demand"
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(letter.path).pages))
    assert inv["DocNumber"] in text and "Letter of demand" in text
    assert f"£{total + fee:,.2f} £0.00 £{total + fee:,.2f}" in text
    assert f"Late payment fees £{fee:,.2f}" in text
    assert f"Total now due £{total + fee:,.2f}" in text and letter.total == total + fee
    assert "refer the debt to a collection agency" in text
    pending = user.json("letters", "--pending")
    assert letter.id in [p["id"] for p in pending]
    user("letters", "mark-sent", str(letter.id))

    # Rung 4: the hand-off; the referral notes wait for approval.
    case = tmp_path / "case.zip"
    made = user.json(
        "handoff", "--org", "qbo", "--customer", works.name, "--to", "Northern Recoveries",
        "--out", str(case), "--by", "carol",
    )  # fmt: skip
    assert Decimal(made["balance"]) == total + fee
    names = set(zipfile.ZipFile(case).namelist())
    assert {
        "statement.csv",
        "statement.pdf",
        "communications.csv",
        "timeline.json",
        f"invoices/{inv['DocNumber']}.json",
        f"letters/{Path(letter.path).name}",
    } <= names
    assert any(n.startswith("emails/") for n in names)
    log = zipfile.ZipFile(case).read("communications.csv").decode()
    assert "plan" in log.lower() and "letter" in log.lower()
    referral = f"qbo:handoff/{made['handoff']}:{inv['Id']}:note"
    assert [r.status for r in outbox(w, works.id) if r.idempotency_key == referral] == [
        "awaiting_review"
    ]
    user("review", "approve", "--customer", works.id, "--all", "--by", "carol")
    user("run-once", ok=False)
    assert [r.status for r in outbox(w, works.id) if r.idempotency_key == referral] == ["done"]
    before = len(outbox(w, works.id))
    w.bench.sandbox.control.advance_clock(days=14)
    user("run-once", ok=False)
    assert len(outbox(w, works.id)) == before  # no automatic action after the hand-off
    user("handoff", "status", "--org", "qbo")
    user("customer", "show", "--org", "qbo", works.id)
    user.keep()
