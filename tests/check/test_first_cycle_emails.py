"""End to end on the seeded QuickBooks sandbox and a real SMTP server: the first cycle's
emails claim no reminder syncd never sent, speak in the business's name and use the
customers' conventions; a later cycle cites the reminders that really went out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from syncd.daemon.runner import run_org_once
from tests.connectors.quickbooks.conftest import Bench, make_bench
from tests.support.smtp import Inbox, smtp_server

CLAIMS = ("Despite", "earlier reminder", "previous reminders", "wrote to you", "written to you")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Bench, Inbox]]:
    with smtp_server() as (inbox, port):
        url = f"sqlite:///{tmp_path / 'store.db'}"
        for bench in make_bench(tmp_path, url, invoices=120, smtp_port=port):
            bench.syncer().backfill()
            yield bench, inbox


def _text(raw: EmailMessage) -> tuple[str, str]:
    msg = message_from_bytes(raw.as_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(msg["From"]), str(body.get_content())


def test_first_cycle_emails_claim_nothing_and_speak_for_the_business(
    world: tuple[Bench, Inbox],
) -> None:
    bench, inbox = world
    (company,) = bench.sandbox.control.snapshot()["entities"]["CompanyInfo"]
    run = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert run.error is None, run.error
    first = [_text(m.message) for m in inbox.messages]  # type: ignore[arg-type]
    assert first, "the seeded backlog has overdue invoices"
    for sender, text in first:
        assert sender.startswith(company["CompanyName"]), sender
        assert text.rstrip().endswith(company["CompanyName"])
        assert "Reminded on:" not in text
        for claim in CLAIMS:
            assert claim not in text, (claim, text)
        # A US company's US customers: "$1,234.56" and "Sep 16, 2026" conventions.
        assert "US$" not in text
        assert re.search(r"\$\d{1,3}(,\d{3})*\.\d{2}", text)
        assert re.search(r"Due date: [A-Z][a-z]{2} \d{1,2}, \d{4}", text)


def test_a_later_step_cites_the_reminder_that_really_went_out(world: tuple[Bench, Inbox]) -> None:
    bench, inbox = world
    truth = bench.sandbox.control.truth()
    owing = {i["customer_id"] for i in truth["invoices"] if i["status"] == "open"}
    customer = next(
        c
        for c in truth["customers"]
        if c["email"] and c["active"] and c["currency"] == "USD" and c["id"] not in owing
    )
    bench.sandbox.control.create_invoice(
        customer["id"],
        [{"amount": "1984.50", "description": "Design retainer"}],
        txn_date="2026-10-01",
        due_date="2026-10-31",
    )

    def mail_to(address: str) -> list[str]:
        return [
            _text(m.message)[1]  # type: ignore[arg-type]
            for m in inbox.messages
            if address in m.rcpt_tos
        ]

    run = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert run.error is None, run.error
    (first,) = mail_to(customer["email"])
    assert "Balance due: $1,984.50" in first and "Oct 31, 2026" in first
    for claim in CLAIMS:
        assert claim not in first

    bench.sandbox.control.advance_clock(days=7)
    run = run_org_once(bench.store, bench.config, "qbo", bench.clock)
    assert run.error is None, run.error
    first_again, firm = mail_to(customer["email"])
    assert first_again == first
    assert "Despite our earlier reminder, the invoice below is still unpaid" in firm
    assert "Reminded on: Nov 2, 2026" in firm
