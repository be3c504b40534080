"""Demand letters end to end on the QuickBooks GB sandbox, a real SMTP server and the CLI:
the reminders and late fees of the standard ladder, then at day 30 one letter per customer
(the England and Wales letter of claim for an individual, a letter of demand for a company,
a hold for a debtor nobody describes), read back from the PDF with pypdf and checked
against figures computed here by hand; emailed with the PDF attached, noted on the
invoices at the provider, listed for posting and marked posted, exactly once."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import func, select

from syncd.store.ladder import Letter
from syncd.store.models import AuditEntry, OutboxAction
from tests.letters.conftest import LetterWorld

#: The GB sandbox company charges standard-rate VAT on the joinery lines the tests create.
VAT = Decimal("1.20")
#: The standard preset's monthly late fee, charged once at day 14 on the open balance.
FEE = Decimal("0.015")
CENT = Decimal("0.01")


def pdf_text(path: str) -> str:
    pages = PdfReader(path).pages
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def climb(w: LetterWorld) -> None:
    """Day 17-20 overdue: late fees; 14 days on (a Monday): final notice and letters; then
    the emails that carry the letters."""
    w.cli("run-once")
    w.bench.sandbox.control.advance_clock(days=14)
    w.cli("run-once")
    w.cli("run-once")


def letters(w: LetterWorld) -> list[Letter]:
    with w.bench.store.sessions() as s:
        return list(s.scalars(select(Letter).order_by(Letter.id)))


def test_letters_hold_every_invoice_and_the_totals(letter_world: LetterWorld) -> None:
    w = letter_world
    climb(w)
    made = {x.customer_provider_id: x for x in letters(w)}
    assert set(made) == {w.jane.id, w.works.id}  # Sam waits for a human

    # Jane: 500.00 + VAT, 100.00 paid, then 1.5% on the open balance; 240.00 + VAT.
    a_total, b_total = Decimal("500.00") * VAT, Decimal("240.00") * VAT
    a_fee = ((a_total - 100) * FEE).quantize(CENT)
    b_fee = (b_total * FEE).quantize(CENT)
    jane_total = a_total - 100 + a_fee + b_total + b_fee
    assert (a_fee, b_fee, jane_total) == (Decimal("7.50"), Decimal("4.32"), Decimal("799.82"))
    jane = made[w.jane.id]
    assert jane.template == "pre-action-ew"
    text = pdf_text(jane.path)
    numbers = [i["DocNumber"] for i in w.jane.invoices]
    issued = [i["TxnDate"] for i in w.jane.invoices]
    due = [i["DueDate"] for i in w.jane.invoices]
    for number, issue, due_on in zip(numbers, issued, due, strict=True):
        y, m, d = issue.split("-")
        assert f"{number} {d}/{m}/{y}" in text
        y, m, d = due_on.split("-")
        assert f"{d}/{m}/{y}" in text
    assert f"£{a_total + a_fee:,.2f} £100.00 £{a_total - 100 + a_fee:,.2f}" in text
    assert f"£{b_total + b_fee:,.2f} £0.00 £{b_total + b_fee:,.2f}" in text
    assert f"Invoiced for goods and services £{a_total + b_total:,.2f}" in text
    assert f"Late payment fees £{a_fee + b_fee:,.2f}" in text
    assert "Statutory interest £0.00" in text and "Fixed-sum compensation £0.00" in text
    assert "Less payments and credits received -£100.00" in text
    assert f"Total now due £{jane_total:,.2f}" in text
    assert "Jane Doe 12 Mill Lane Leeds LS1 4AB" in text
    assert "Thistle & Pine Studio Limited 14 Dale Street" in text  # the GB sandbox company

    works = made[w.works.id]
    assert works.template == "demand"
    text = pdf_text(works.path)
    w_total = Decimal("1200.00") * VAT
    w_fee = (w_total * FEE).quantize(CENT)
    assert "Letter of demand" in text and "Letter of claim" not in text
    assert f"Total now due £{w_total + w_fee:,.2f}" in text
    assert f"Late payment fees £{w_fee:,.2f}" in text
    pay_by = (w.today + timedelta(days=30)).strftime("%-d %B %Y")
    assert f"Please pay £{w_total + w_fee:,.2f} no later than {pay_by}" in text
    assert "refer the debt to a collection agency" in text
    assert "start legal proceedings" in text

    # Every figure agrees with the provider's own balances.
    truth = {t["id"]: t for t in w.bench.sandbox.control.truth()["invoices"]}
    provider = sum(Decimal(truth[i["Id"]]["balance"]) for i in w.jane.invoices)
    assert provider == jane_total == jane.total


def test_england_and_wales_letter_of_claim_has_what_the_protocol_requires(
    letter_world: LetterWorld,
) -> None:
    w = letter_world
    climb(w)
    jane = next(x for x in letters(w) if x.customer_provider_id == w.jane.id)
    text = pdf_text(jane.path)
    dated = w.today.strftime("%-d %B %Y")
    reply_by = (w.today + timedelta(days=30)).strftime("%-d %B %Y")
    assert text.index(f"Date: {dated}") < text.index("Letter of claim")  # dated at the top
    for required in (
        "Pre-Action Protocol for Debt Claims",
        "Amount of the debt: £799.82",
        "statement of account",
        "Interest and charges: no further interest or charges are being added",
        f"reply within 30 days of the date of this letter, by {reply_by}",
        "Reply Form",
        "Annex 1: Information Sheet",
        "Annex 1: Reply Form",
        "Annex 2: Financial Statement",
        "I dispute the debt",
        "debt advice",
        "How to pay",
    ):
        assert required in text, required
    assert len(PdfReader(jane.path).pages) >= 3  # letter, Annex 1, Annex 2


def test_letters_are_emailed_noted_listed_posted_and_made_once(letter_world: LetterWorld) -> None:
    w = letter_world
    climb(w)
    made = letters(w)
    by_customer = {x.customer_provider_id: x for x in made}
    carried = [m for m in w.inbox.messages if "Formal demand" in str(m.message["Subject"])]
    assert len(carried) == 2
    for m in carried:
        pdfs = [p for p in m.message.walk() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1
        letter = next(x for x in made if Path(x.path).name == pdfs[0].get_filename())
        assert pdfs[0].get_payload(decode=True) == Path(letter.path).read_bytes()

    notes = w.bench.sandbox.control.writes()["notes"]
    for letter in made:
        for invoice_id in letter.invoice_ids:
            mine = [n for n in notes if n["id"] == invoice_id and "Formal letter" in n["after"]]
            assert len(mine) == 1, (invoice_id, notes)
            assert str(letter.statement["reference"]) in mine[0]["after"]

    sam = [r for r in outbox(w) if r.kind == "escalate" and r.customer_provider_id == w.sam.id]
    assert [r.status for r in sam] == ["awaiting_review"]
    assert "business or an individual" in str(sam[0].review_reason)
    shown = w.cli("preview", str(sam[0].id)).stdout
    assert "letter: pre-action-ew" in shown and "preview PDF:" in shown
    assert "Sam Unknown" in shown and "Letter of claim" in shown

    pending = w.json("letters", "--pending", "--json")
    assert sorted(p["id"] for p in pending) == sorted(x.id for x in made)
    jane = by_customer[w.jane.id]
    posted_day = w.today.isoformat()
    w.cli("letters", "mark-sent", str(jane.id), "--on", w.today.isoformat(), "--by", "alice")
    assert [p["id"] for p in w.json("letters", "--pending", "--json")] == [
        by_customer[w.works.id].id
    ]
    with w.bench.store.sessions() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
        assert s.scalar(select(func.count()).where(AuditEntry.event == "letter.created")) == len(
            made
        )
    for args, said in (
        (["letters", "mark-sent", str(jane.id)], "already marked posted"),
        (["letters", "mark-sent", "999"], "no letter 999"),
        (["letters", "mark-sent", str(jane.id), "--on", "26/11/2026"], "YYYY-MM-DD"),
    ):
        result = w.cli(*args, ok=False)
        assert result.exit_code == 2 and said in result.stderr
        assert "Traceback" not in result.output
    with w.bench.store.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before

    # Exactly once: later cycles make no second letter, file, note or email.
    files = sorted(Path(made[0].path).parents[2].rglob("*.pdf"))
    w.bench.sandbox.control.advance_clock(days=1)
    w.cli("run-once")
    w.cli("run-once")
    assert [x.id for x in letters(w)] == [x.id for x in made]
    assert sorted(Path(made[0].path).parents[2].rglob("*.pdf")) == files
    assert len(w.bench.sandbox.control.writes()["notes"]) == len(notes)
    assert len([m for m in w.inbox.messages if "Formal demand" in str(m.message["Subject"])]) == 2
    listed = {x["id"]: x for x in w.json("letters", "--json")}
    assert listed[jane.id]["posted_on"] == posted_day
    assert listed[by_customer[w.works.id].id]["posted_on"] is None
    assert {x["customer_name"] for x in listed.values()} == {"Jane Doe", "Widget Works Ltd"}


def outbox(w: LetterWorld) -> list[OutboxAction]:
    with w.bench.store.sessions() as s:
        return list(s.scalars(select(OutboxAction).order_by(OutboxAction.id)))
