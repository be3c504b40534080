"""Settlements end to end on both sandboxes and the CLI.

Paid in time, a settlement closes the rest of the invoice through exactly one credit note
(Xero: allocated credit note; QuickBooks: credit memo linked by a zero-total payment), even
when syncd is killed between the provider's answer and recording it; the credit waits for
approval first. Not paid in time, the offer lapses and ordinary dunning resumes.
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from syncd.store.models import Hold, OutboxAction
from tests.plans.conftest import LadderWorld, days_from, overprecise

ORDINARY = {"email", "provider_email", "late_fee", "interest", "compensation", "escalate"}


def _child(config: str, point: str, now: str) -> None:
    import syncd.crashpoints as cp

    cp._NAME, _, cp._NTH = point.partition("#")
    cp._HITS.clear()
    out = os.open(os.devnull, os.O_WRONLY)
    os.dup2(out, 1)
    os.dup2(out, 2)
    from syncd.cli.app import app

    try:
        app(["--config", config, "--now", now, "--log-level", "CRITICAL", "run-once"])
    except SystemExit as exc:
        os._exit(int(exc.code or 0))
    os._exit(0)


def run_killed_at(ladder: LadderWorld, point: str) -> int:
    """``run-once`` in a child process that SIGKILLs itself at ``point``."""
    ctx = multiprocessing.get_context("fork")
    args = (str(ladder.w.config.path), point, ladder.w.now().isoformat())
    proc = ctx.Process(target=_child, args=args)
    proc.start()
    proc.join(120)
    assert not proc.is_alive(), "run-once hung"
    return int(proc.exitcode or 0)


def _credit_row(ladder: LadderWorld, settlement: int) -> OutboxAction:
    key = f"{ladder.org}:settlement/{settlement}:credit"
    (row,) = [r for r in ladder.outbox() if r.idempotency_key == key]
    return row


def test_settlement_paid_in_time_closes_through_one_credit_even_after_a_crash(
    ladder: LadderWorld,
) -> None:
    _, (invoice,) = ladder.debtor()
    today = ladder.today()
    agreed = (invoice.balance * Decimal("0.6")).quantize(Decimal("0.01"))
    offer = ladder.cli_json(
        "settle", "--org", ladder.org, "--invoice", str(invoice.number), "--amount", str(agreed),
        "--pay-by", days_from(today, 10), "--note", "agreed on the phone",
    )  # fmt: skip
    assert offer["status"] == "pending"
    assert Decimal(offer["write_off"]) == invoice.balance - agreed
    assert invoice.provider_id not in ladder.planned_invoices()

    ladder.advance_days(2)
    ladder.pay(invoice.provider_id, agreed)
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("settle", "show", str(offer["id"]), "--org", ladder.org)
    assert shown["status"] == "met" and shown["met_on"] is not None
    row = _credit_row(ladder, offer["id"])
    assert row.status == "awaiting_review" and "always waits" in str(row.review_reason)
    documents = len(ladder.credit_documents())
    assert ladder.truth_balance(invoice.provider_id) == invoice.balance - agreed

    preview = ladder.cli("preview", str(row.id)).stdout
    assert "credit note" in preview and f"Settlement {offer['id']}" in preview
    # The credit note's reference, written to the customer's ledger, reads as a bookkeeper
    # writes an amount (stored amounts carry six decimal places).
    reference = str(row.payload["reference"])
    assert f": {agreed} {invoice.currency} accepted in full settlement" in reference
    assert not overprecise(reference, invoice.currency), reference
    ladder.cli("review", "approve", "--kind", "credit", "--by", "alice")
    assert run_killed_at(ladder, "credit.after_provider") == -9
    assert _credit_row(ladder, offer["id"]).status == "in_flight"
    assert len(ladder.credit_documents()) == documents + 1  # written, but not recorded

    ladder.cli("run-once", ok=False)  # recovers the row: the tagged credit is found
    row = _credit_row(ladder, offer["id"])
    assert row.status == "done", row.last_error
    credits = ladder.credit_documents()
    assert len(credits) == documents + 1
    (mine,) = [c for c in credits if str(c.get("id", c.get("credit_note_id"))) == row.remote_id]
    assert Decimal(mine["total"]) == invoice.balance - agreed
    assert ladder.truth_balance(invoice.provider_id) == 0

    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("settle", "show", str(offer["id"]), "--org", ladder.org)
    assert shown["status"] == "closed" and row.remote_id in shown["end_reason"]
    assert len(ladder.credit_documents()) == documents + 1
    with ladder.w.store.sessions() as s:
        holds = s.scalars(select(Hold).where(Hold.provider_id == invoice.provider_id)).all()
    assert holds and all(h.released_at is not None for h in holds)


def test_a_lapsed_settlement_resumes_dunning(ladder: LadderWorld) -> None:
    _, (invoice,) = ladder.debtor()
    today = ladder.today()
    started: datetime = ladder.w.now()
    agreed = (invoice.balance / 2).quantize(Decimal("0.01"))
    offer = ladder.cli_json(
        "settle", "--org", ladder.org, "--invoice", invoice.provider_id, "--amount", str(agreed),
        "--pay-by", days_from(today, 3),
    )  # fmt: skip
    ladder.advance_days(1)
    ladder.pay(invoice.provider_id, Decimal("1.00"))  # something, not the agreed amount
    ladder.cli("run-once", ok=False)
    assert (
        ladder.cli_json("settle", "show", str(offer["id"]), "--org", ladder.org)["status"]
        == "pending"
    )
    ladder.advance_days(3)  # a weekday in both companies: ordinary dunning may act today
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("settle", "show", str(offer["id"]), "--org", ladder.org)
    assert shown["status"] == "lapsed" and "dunning resumes" in shown["end_reason"]
    rows = ladder.outbox()
    assert not [r for r in rows if r.kind == "credit"]
    resumed = [
        r.kind for r in rows
        if r.kind in ORDINARY and r.created_at >= started
        and (r.invoice_provider_id == invoice.provider_id
             or any(i.get("provider_id") == invoice.provider_id
                    for i in r.payload.get("invoices") or []))
    ]  # fmt: skip
    assert resumed or invoice.provider_id in ladder.planned_invoices()


def test_a_credit_skipped_by_the_reviewer_keeps_the_invoice_on_hold(ladder: LadderWorld) -> None:
    _, (invoice,) = ladder.debtor()
    agreed = (invoice.balance / 2).quantize(Decimal("0.01"))
    offer = ladder.cli_json(
        "settle", "--org", ladder.org, "--invoice", invoice.provider_id, "--amount", str(agreed),
        "--pay-by", days_from(ladder.today(), 5),
    )  # fmt: skip
    ladder.advance_days(1)
    ladder.pay(invoice.provider_id, agreed)
    ladder.cli("run-once", ok=False)
    documents = len(ladder.credit_documents())
    ladder.cli("review", "skip", "--kind", "credit", "--reason", "customer disputes the rest")
    ladder.cli("run-once", ok=False)
    shown = ladder.cli_json("settle", "show", str(offer["id"]), "--org", ladder.org)
    assert shown["status"] == "unclosed" and "stays on hold" in shown["end_reason"]
    assert len(ladder.credit_documents()) == documents
    assert invoice.provider_id not in ladder.planned_invoices()
    with ladder.w.store.sessions() as s:
        holds = s.scalars(select(Hold).where(Hold.provider_id == invoice.provider_id)).all()
    assert [h.released_at for h in holds] == [None]
