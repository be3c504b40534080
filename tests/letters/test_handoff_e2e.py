"""The hand-off end to end: after the ladder (late fees, final notice, letter, a promise, a
note), ``syncd handoff`` writes a case file holding every record the issue lists, stops all
automatic action for the customer, queues referral notes held for review, and
``handoff status`` reports a payment that arrives later. Bad input changes nothing. The
customer's record shows it all in one timeline."""

from __future__ import annotations

import csv
import email
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from syncd.store.ladder import Handoff, Letter, SentMessage
from syncd.store.models import AuditEntry, Hold, OutboxAction
from tests.letters.conftest import LetterWorld
from tests.letters.test_letters_e2e import climb


def counts(w: LetterWorld) -> tuple[int, ...]:
    with w.bench.store.sessions() as s:
        return (
            *tuple(
                int(s.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Handoff, Hold, OutboxAction, AuditEntry)
            ),
            len(list((w.bench.config.path.parent / "letters").rglob("*.zip"))),
        )


def statuses(w: LetterWorld, customer: str) -> list[tuple[str, str]]:
    with w.bench.store.sessions() as s:
        rows = s.scalars(
            select(OutboxAction)
            .where(OutboxAction.customer_provider_id == customer)
            .order_by(OutboxAction.id)
        )
        return [(r.kind, r.status) for r in rows]


def test_handoff_case_file_holds_every_record(letter_world: LetterWorld, tmp_path: Path) -> None:
    w = letter_world
    climb(w)
    w.cli("customer", "note", "Jane", "Called: says she will pay after payday", "--by", "bob")
    until = (w.today + timedelta(days=5)).isoformat()
    w.cli(
        "pause",
        "--org",
        "qbo",
        "--customer",
        w.jane.id,
        "--until",
        until,
        "--reason",
        "promised to pay on payday",
    )
    w.cli("resume", "--org", "qbo", "--customer", w.jane.id, "--reason", "promise broken")
    w.cli(
        "dispute",
        "--org",
        "qbo",
        "--invoice",
        w.jane.invoices[1]["Id"],
        "--reason",
        "says the second visit was not agreed",
    )
    out = tmp_path / "case.zip"
    made = json.loads(
        w.cli(
            "handoff",
            "--org",
            "qbo",
            "--customer",
            "Jane Doe",
            "--to",
            "Northern Recoveries",
            "--out",
            str(out),
            "--json",
            "--by",
            "carol",
        ).stdout
    )
    assert made["agency"] == "Northern Recoveries" and made["balance"] == "799.82"
    archive = zipfile.ZipFile(out)
    names = set(archive.namelist())
    numbers = [i["DocNumber"] for i in w.jane.invoices]
    with w.bench.store.sessions() as s:
        letter = s.scalars(select(Letter).where(Letter.customer_provider_id == w.jane.id)).one()
        sent = list(
            s.scalars(select(SentMessage).where(SentMessage.customer_provider_id == w.jane.id))
        )
    expected = {
        "README.txt",
        "statement.csv",
        "statement.pdf",
        "customer.json",
        "payments.csv",
        "communications.csv",
        "timeline.json",
        "audit.jsonl",
        f"letters/{Path(letter.path).name}",
        *(f"invoices/{n}.json" for n in numbers),
        *(f"emails/{m.action_id}.eml" for m in sent),
    }
    assert expected <= names, expected - names
    assert any(n.startswith("payments/payment-") for n in names)
    assert archive.read(f"letters/{Path(letter.path).name}") == Path(letter.path).read_bytes()

    # The provider's own records, verbatim.
    for inv in w.jane.invoices:
        raw = json.loads(archive.read(f"invoices/{inv['DocNumber']}.json"))
        assert raw["Id"] == inv["Id"] and raw["DocNumber"] == inv["DocNumber"]
    statement = list(csv.reader(io.StringIO(archive.read("statement.csv").decode())))
    assert [r[0] for r in statement[1:]] == [*numbers, "TOTAL"]
    assert statement[-1][6] == "799.82"
    payments = list(csv.DictReader(io.StringIO(archive.read("payments.csv").decode())))
    assert [(p["invoice"], p["amount"]) for p in payments] == [(numbers[0], "100.00")]

    # Every email as sent (Message-ID and body), and the whole log with dates and reasons.
    log = list(csv.DictReader(io.StringIO(archive.read("communications.csv").decode())))
    kinds = {row["kind"] for row in log}
    assert {
        "email",
        "late_fee",
        "escalate",
        "letter",
        "note",
        "pause",
        "dispute",
        "payment",
        "invoice",
    } <= kinds, kinds
    emails = [row for row in log if row["kind"] == "email" and row["ref"]]
    assert len(emails) == len(sent) >= 3  # late-fee notice, final notice, the letter's email
    for row in emails:
        eml = email.message_from_bytes(archive.read(row["body"]))
        assert eml["Message-ID"] == row["ref"]
        assert "Jane Doe" in eml.get_payload(0).as_string() or "Jane" in str(eml)
    assert all(row["at"] for row in log)
    assert any("promised to pay on payday" in row["why"] for row in log)
    assert any("Called: says she will pay" in row["summary"] for row in log)
    assert any("1.5% of" in row["why"] for row in log if row["kind"] == "late_fee")
    readme = archive.read("README.txt").decode()
    assert "Northern Recoveries" in readme and "799.82 GBP" in readme

    # From now on: no automatic action, referral notes wait for review, all recorded.
    assert ("note", "awaiting_review") in statuses(w, w.jane.id)
    notes = [s for s in statuses(w, w.jane.id) if s == ("note", "awaiting_review")]
    assert len(notes) == 2
    before = statuses(w, w.jane.id)
    w.bench.sandbox.control.advance_clock(days=20)
    w.cli("run-once")
    assert statuses(w, w.jane.id) == before
    with w.bench.store.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.event == "handoff.created")).one()
    assert audit.actor == "carol" and audit.subject_id == w.jane.id

    # A payment that still arrives is reported for the agency.
    assert w.json("handoff", "status", "--json")[0]["payments_since"] == []
    w.bench.sandbox.control.add_payment(
        [{"invoice_id": w.jane.invoices[0]["Id"], "amount": "50.00"}], customer_id=w.jane.id
    )
    w.cli("run-once")
    status = w.json("handoff", "status", "--json")
    assert [(p["invoice"], p["amount"]) for p in status[0]["payments_since"]] == [
        (numbers[0], "50.00")
    ]
    assert status[0]["balance_now"] == "749.82" and status[0]["balance_at_handoff"] == "799.82"
    assert "1 payment(s) since" in w.cli("handoff", "status").stdout


def test_handoff_bad_input_changes_nothing(letter_world: LetterWorld, tmp_path: Path) -> None:
    w = letter_world
    climb(w)
    w.cli("handoff", "--org", "qbo", "--customer", w.works.id, "--to", "Lex & Co")
    before = counts(w)
    paid = next(
        c
        for c in w.bench.sandbox.control.truth()["customers"]
        if c["balance"] in ("0", "0.00") and c["display_name"] != "Jane Doe"
    )
    cases: list[tuple[list[str], str]] = [
        (["--customer", "Nobody Such", "--to", "A"], "no customer with id or name"),
        (["--customer", paid["id"], "--to", "A"], "no overdue invoice: nothing to hand off"),
        (["--customer", w.works.id, "--to", "A"], "already handed off to Lex & Co"),
        (["--customer", w.jane.id, "--to", "  "], "--to needs"),
        (["--customer", w.jane.id, "--to", "A", "--out", str(tmp_path / "x.txt")], ".zip"),
        (["--customer", w.jane.id], "usage: syncd handoff"),
        (["--org", "nope", "--customer", w.jane.id, "--to", "A"], "no org named 'nope'"),
    ]
    exists = tmp_path / "exists.zip"
    exists.write_bytes(b"keep me")
    cases.append((["--customer", w.jane.id, "--to", "A", "--out", str(exists)], "already exists"))
    for args, said in cases:
        result = w.cli("handoff", *args, ok=False)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
        assert counts(w) == before, args
    assert exists.read_bytes() == b"keep me"
    ambiguous = w.cli("customer", "show", "--org", "qbo", "o", ok=False)
    assert ambiguous.exit_code == 2 and "give the id" in ambiguous.stderr


def test_customer_show_is_one_timeline(letter_world: LetterWorld) -> None:
    w = letter_world
    climb(w)
    letter_id = w.json("letters", "--json")[0]["id"]
    w.cli("letters", "mark-sent", str(letter_id))
    w.cli("customer", "note", w.jane.id, "Spoke to Jane")
    w.cli("handoff", "--customer", w.jane.id, "--to", "Northern Recoveries")
    shown: dict[str, Any] = w.json("customer", "show", "Jane Doe", "--json")
    assert shown["customer"] == w.jane.id and shown["address"][0] == "12 Mill Lane"
    events = shown["events"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    kinds = [e["kind"] for e in events]
    for kind in (
        "invoice",
        "payment",
        "late_fee",
        "email",
        "escalate",
        "letter",
        "letter-posted",
        "note",
        "handoff",
    ):
        assert kind in kinds, kind
    fee = next(e for e in events if e["kind"] == "late_fee")
    assert fee["why"] and fee["amount"] == "7.50"
    table = w.cli("customer", "show", w.jane.id).stdout
    assert "Jane Doe" in table and "handoff" in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_a_released_handoff_resumes_dunning_with_the_agencys_time_off_the_clock(
    letter_world: LetterWorld,
) -> None:
    w = letter_world
    w.cli("run-once")  # Works, 19 days overdue: a reminder and the late fee
    w.cli("handoff", "--org", "qbo", "--customer", w.works.id, "--to", "Lex & Co", "--by", "al")
    w.bench.sandbox.control.advance_clock(days=14)  # 33 days overdue: the day-30 step is due
    w.cli("run-once")
    before = statuses(w, w.works.id)
    assert ("escalate", "done") not in before, "nothing automatic while the agency has it"

    refused = w.cli("handoff", "release", "--org", "qbo", "--customer", w.works.id, ok=False)
    assert refused.exit_code == 2 and "--reason" in refused.output
    snapshot = counts(w)
    empty = w.cli(
        "handoff", "release", "--org", "qbo", "--customer", w.works.id, "--reason", " ", ok=False
    )
    assert empty.exit_code == 2 and "--reason is required" in empty.stderr
    assert counts(w) == snapshot
    done = w.json(
        "handoff", "release", "--org", "qbo", "--customer", w.works.id,
        "--reason", "agency returned the case", "--by", "al", "--json",
    )  # fmt: skip
    assert done["agency"] == "Lex & Co" and done["skipped_notes"] == 1
    assert ("note", "skipped") in statuses(w, w.works.id), "the unapproved referral note"
    with w.bench.store.sessions() as s:
        (handoff,) = s.scalars(select(Handoff)).all()
        hold = s.scalars(select(Hold).where(Hold.kind == "handoff")).one()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.event == "handoff.released")).one()
        resumed = s.scalars(select(AuditEntry).where(AuditEntry.event == "hold.resume")).one()
    assert handoff.released_at is not None and hold.released_at is not None
    assert (resumed.actor, resumed.details["hold_id"]) == ("al", hold.id)
    assert audit.actor == "al" and audit.subject_id == w.works.id
    assert w.json("handoff", "status", "--json") == []
    again = w.cli(
        "handoff", "release", "--org", "qbo", "--customer", w.works.id, "--reason", "x", ok=False
    )
    assert again.exit_code == 2 and "not handed off" in again.stderr

    # The 14 days with the agency are off the dunning clock: it stands at 19 days overdue,
    # so the day-30 step waits 11 more days, then comes once.
    w.cli("run-once")
    assert [k for k, _ in statuses(w, w.works.id)].count("escalate") == 0
    w.bench.sandbox.control.advance_clock(days=11)
    w.cli("run-once")
    w.cli("run-once")
    assert ("escalate", "done") in statuses(w, w.works.id)
