"""``syncd preview`` renders exactly what the executor then does: the same message (subject,
recipients, Message-ID, bodies), the same fee line; and planning a preview writes nothing."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from syncd.store.models import OutboxAction
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


@pytest.fixture
def qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        yield from make_world("quickbooks", tmp_path, store_url, port, inbox)


@pytest.fixture
def live_qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    """Live since long before the backlog: the ordinary ladder, fees included."""
    with smtp_server() as (inbox, port):
        yield from make_world("quickbooks", tmp_path, store_url, port, inbox, go_live="2025-01-01")


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def test_preview_of_an_email_is_what_the_executor_sends(qbo: World, tmp_path: Path) -> None:
    qbo.cli("run-once")
    items = qbo.review_json()
    chosen = next(i for i in items if i["kind"] == "email" and not i["problem"])
    eml = tmp_path / "preview.eml"
    qbo.cli("preview", str(chosen["id"]), "--format", "eml", "--out", str(eml))
    previewed = parse(eml.read_bytes())
    assert previewed["Subject"] == chosen["subject"]
    html = qbo.cli("preview", str(chosen["id"]), "--format", "html").stdout
    assert html.strip() == body(previewed, "html").strip()
    text = qbo.cli("preview", str(chosen["id"])).stdout
    assert f"Subject: {chosen['subject']}" in text
    assert body(previewed, "plain").strip() in text

    qbo.cli("review", "approve", str(chosen["id"]))
    qbo.cli("run-once")
    assert len(qbo.inbox.messages) == 1
    sent = parse(qbo.inbox.messages[0].message.as_bytes())
    for header in ("Subject", "From", "To", "Message-ID", "Reply-To"):
        assert sent[header] == previewed[header], header
    assert body(sent, "plain") == body(previewed, "plain")
    assert body(sent, "html") == body(previewed, "html")


def test_preview_of_a_fee_is_the_line_the_executor_writes(live_qbo: World) -> None:
    qbo = live_qbo
    qbo.cli("run-once")
    items = qbo.review_json()
    fee = next(i for i in items if i["kind"] == "late_fee")
    text = qbo.cli("preview", str(fee["id"])).stdout
    assert f"fee line: {fee['fee']['description']}" in text
    assert f"amount: {fee['amount']} {fee['currency']}" in text
    assert qbo.cli("preview", str(fee["id"]), "--format", "eml", ok=False).exit_code == 2

    qbo.cli("review", "approve", str(fee["id"]))
    qbo.cli("run-once")
    lines = qbo.writes()["lines_added"]
    assert len(lines) == 1 and lines[0]["amount"] == fee["amount"]
    # The connector appends its idempotency tag to the line the executor hands it.
    written = lines[0]["description"]
    assert written.startswith(fee["fee"]["description"] + " ") and "[syncd:" in written


def test_preview_by_invoice_plans_read_only(qbo: World, tmp_path: Path) -> None:
    actions = json.loads(qbo.cli("plan", "--json").stdout)
    email_action = next(a for a in actions if a["action"] == "email")
    number = email_action["invoices"][0]["number"]
    step = email_action["invoices"][0]["step"]
    text = qbo.cli("preview", "--invoice", number).stdout
    assert "(planned now, not queued)" in text and "Subject:" in text
    only = qbo.cli("preview", "--invoice", number, "--step", step, "--format", "eml").stdout
    assert parse(only.encode())["Subject"]
    assert qbo.outbox() == []  # nothing was queued by previewing
    missing = qbo.cli("preview", "--invoice", "NO-SUCH", ok=False)
    assert (
        missing.exit_code == 2
        and "no invoice with number or provider id 'NO-SUCH'" in missing.output
    )
    both = qbo.cli("preview", "1", "--invoice", number, ok=False)
    assert both.exit_code == 2

    # Once queued, the preview shows the queued action (its outbox id).
    qbo.cli("run-once")
    queued = qbo.cli("preview", "--invoice", number, "--step", step).stdout
    ids = [r.id for r in qbo.outbox() if _lists(r, number)]
    assert any(f"# action {i}:" in queued for i in ids)


def _lists(row: OutboxAction, number: str) -> bool:
    return any(i.get("number") == number for i in row.payload.get("invoices") or [])
