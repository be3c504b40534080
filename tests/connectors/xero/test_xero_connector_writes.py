"""Writes happen once per idempotency key, within Xero's rules, and fall back where Xero refuses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.base import LateFee, PermanentError
from connectors.xero.client import HISTORY_LIMIT, XeroConnector

from .conftest import Bench


def reachable(bench: Bench) -> set[str]:
    return {c["contact_id"] for c in bench.truth()["contacts"] if c["email_recipients"]}


def open_invoice(bench: Bench, *, emailable: bool = True, unpaid: bool = True) -> dict[str, Any]:
    contacts = reachable(bench)
    for t in bench.truth()["invoices"]:
        if (
            t["status"] == "AUTHORISED"
            and (t["contact_id"] in contacts) == emailable
            and (Decimal(t["amount_paid"]) == 0) == unpaid
            and Decimal(t["amount_credited"]) == 0
        ):
            return dict(t)
    raise AssertionError("the seed has no such invoice")


def notes_on(bench: Bench, invoice_id: str) -> list[str]:
    return [
        n["details"]
        for n in bench.control.writes()["history_notes"]
        if n["invoice_id"] == invoice_id
    ]


def idempotency_keys(bench: Bench, method: str) -> list[str | None]:
    return [r["idempotency_key"] for r in bench.api_requests() if r["method"] == method]


def test_note_is_written_once_per_key(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = bench.connector()
    first = connector.add_note(inv["invoice_id"], "Reminder 1 sent", idempotency_key="acme:1:r1")
    second = connector.add_note(inv["invoice_id"], "Reminder 1 sent", idempotency_key="acme:1:r1")
    assert second.detail == "already applied" and first.detail != second.detail
    assert notes_on(bench, inv["invoice_id"]) == ["[syncd:acme:1:r1] Reminder 1 sent"]
    assert idempotency_keys(bench, "PUT") == ["acme:1:r1"]


def test_long_note_fits_xeros_limit_with_its_tag(bench: Bench) -> None:
    inv = open_invoice(bench)
    key = "org:" + inv["invoice_id"] + ":step/reminder-3:once"
    bench.connector().add_note(inv["invoice_id"], "word " * 200, idempotency_key=key)
    (note,) = notes_on(bench, inv["invoice_id"])
    assert len(note) == HISTORY_LIMIT and note.startswith(f"[syncd:{key}] word")


def test_reminder_is_emailed_once_per_key(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = bench.connector()
    for _ in range(3):
        connector.send_reminder(inv["invoice_id"], to=None, idempotency_key="acme:2:email")
    emails = [e for e in bench.control.writes()["emails"] if e["invoice_id"] == inv["invoice_id"]]
    assert len(emails) == 1
    assert idempotency_keys(bench, "POST") == ["acme:2:email"]


def test_reminder_where_xero_cannot_email_is_a_permanent_error(bench: Bench) -> None:
    connector = bench.connector()
    silent = open_invoice(bench, emailable=False)
    with pytest.raises(PermanentError, match="no email address"):
        connector.send_reminder(silent["invoice_id"], to=None, idempotency_key="acme:3:email")
    draft = next(t for t in bench.truth()["invoices"] if t["status"] == "DRAFT")
    with pytest.raises(PermanentError, match="DRAFT"):
        connector.send_reminder(draft["invoice_id"], to=None, idempotency_key="acme:4:email")
    other = open_invoice(bench)
    with pytest.raises(PermanentError, match="SMTP"):
        connector.send_reminder(other["invoice_id"], to="x@y.test", idempotency_key="acme:5:e")
    assert bench.control.writes()["emails"] == []


def test_late_fee_line_keeps_every_line_and_is_added_once(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = bench.connector()
    before = connector.fetch_invoice(inv["invoice_id"])
    assert before is not None
    fee = LateFee(Decimal("15.00"), before.currency, "Late fee, 30 days overdue")
    first = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:6:fee/late:1")
    again = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:6:fee/late:1")
    assert again.detail == "already applied" and again.remote_id == first.remote_id
    after = connector.fetch_invoice(inv["invoice_id"])
    assert after is not None
    old = {ln.provider_line_id: ln for ln in before.lines}
    kept = {ln.provider_line_id: ln for ln in after.lines if ln.provider_line_id in old}
    assert kept == old
    (added,) = [ln for ln in after.lines if ln.provider_line_id not in old]
    assert added.fee_key == "acme:6:fee/late:1" and added.amount == fee.amount
    assert added.provider_line_id == first.remote_id
    assert (after.total, after.balance) == (before.total + fee.amount, before.balance + fee.amount)
    assert len(bench.control.writes()["line_edits"]) == 1
    assert idempotency_keys(bench, "POST") == ["acme:6:fee/late:1"]


def test_late_fee_after_a_payment_falls_back_to_a_fee_invoice(bench: Bench) -> None:
    inv = open_invoice(bench)
    bench.control.add_payment(inv["invoice_id"], "1.00")
    connector = bench.connector()
    fee = LateFee(Decimal("9.99"), inv["currency"], "Late fee")
    result = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:7:fee/l:1")
    again = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:7:fee/l:1")
    assert result.detail and "payment or credit note" in result.detail
    assert again.remote_id == result.remote_id and again.detail == "already applied"
    writes = bench.control.writes()
    assert writes["line_edits"] == [] and len(writes["created_invoices"]) == 1
    new = connector.fetch_invoice(str(result.remote_id))
    assert new is not None and new.total == Decimal("9.99") and new.status.value == "open"
    assert new.customer_provider_id == inv["contact_id"] and new.currency == inv["currency"]
    assert new.lines[0].fee_key == "acme:7:fee/l:1"


def test_a_payment_racing_the_fee_line_falls_back_as_well(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector = bench.connector()
    real = connector._invoice_raw

    def read_then_pay(invoice_id: str) -> Any:
        raw = real(invoice_id)
        bench.control.add_payment(inv["invoice_id"], "2.00")  # lands between read and write
        return raw

    connector._invoice_raw = read_then_pay  # type: ignore[method-assign]
    fee = LateFee(Decimal("5.00"), inv["currency"], "Late fee")
    result = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:8:fee/l:1")
    assert result.detail and "cannot be edited" in result.detail
    assert len(bench.control.writes()["created_invoices"]) == 1
    refused = [r for r in bench.api_requests() if r["method"] == "POST"]
    assert [r["status"] for r in refused] == [400]


def test_late_fee_as_a_separate_invoice_by_config(bench: Bench) -> None:
    inv = open_invoice(bench)
    connector: XeroConnector = bench.connector()
    connector.options = connector.options.model_copy(update={"late_fee_mode": "invoice"})
    fee = LateFee(Decimal("12.50"), inv["currency"], "Late fee")
    result = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:9:fee/l:1")
    again = connector.add_late_fee(inv["invoice_id"], fee, idempotency_key="acme:9:fee/l:1")
    assert again.remote_id == result.remote_id
    writes = bench.control.writes()
    assert len(writes["created_invoices"]) == 1 and writes["line_edits"] == []
    assert idempotency_keys(bench, "PUT") == ["acme:9:fee/l:1:fee-invoice"]
    original = connector.fetch_invoice(inv["invoice_id"])
    assert original is not None and all(ln.fee_key is None for ln in original.lines)


def test_fee_in_another_currency_is_refused(bench: Bench) -> None:
    inv = open_invoice(bench)
    other = "AUD" if inv["currency"] != "AUD" else "USD"
    with pytest.raises(PermanentError, match="cannot go on an invoice"):
        bench.connector().add_late_fee(
            inv["invoice_id"], LateFee(Decimal(1), other, "Fee"), idempotency_key="acme:10"
        )


def test_writes_retried_after_a_5xx_happen_once(bench: Bench) -> None:
    inv = open_invoice(bench)
    bench.control.add_fault("503", count=1, method="PUT")
    bench.connector().add_note(inv["invoice_id"], "After a hiccup", idempotency_key="acme:11")
    assert len(notes_on(bench, inv["invoice_id"])) == 1
    assert idempotency_keys(bench, "PUT") == ["acme:11", "acme:11"]
