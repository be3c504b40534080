"""Xero-only write rules (250-character notes, emailable invoices, fee-invoice fallbacks);
idempotency of every connector's writes is in tests/contract."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.base import LateFee, PermanentError
from connectors.xero.notes import HISTORY_LIMIT

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


def test_long_note_fits_xeros_limit_with_its_tag(bench: Bench) -> None:
    inv = open_invoice(bench)
    key = "org:" + inv["invoice_id"] + ":step/reminder-3:once"
    bench.connector().add_note(inv["invoice_id"], "word " * 200, idempotency_key=key)
    (note,) = notes_on(bench, inv["invoice_id"])
    assert len(note) == HISTORY_LIMIT and note.startswith(f"[syncd:{key}] word")


def test_reminder_where_xero_cannot_email_is_a_permanent_error(bench: Bench) -> None:
    connector = bench.connector()
    silent = open_invoice(bench, emailable=False)
    with pytest.raises(PermanentError, match="no email address"):
        connector.send_provider_email(silent["invoice_id"], to=None, idempotency_key="acme:3:email")
    draft = next(t for t in bench.truth()["invoices"] if t["status"] == "DRAFT")
    with pytest.raises(PermanentError, match="DRAFT"):
        connector.send_provider_email(draft["invoice_id"], to=None, idempotency_key="acme:4:email")
    other = open_invoice(bench)
    with pytest.raises(PermanentError, match="SMTP"):
        connector.send_provider_email(
            other["invoice_id"], to="x@y.test", idempotency_key="acme:5:e"
        )
    assert bench.control.writes()["emails"] == []


def test_late_fee_after_a_payment_falls_back_to_a_fee_invoice(bench: Bench) -> None:
    inv = open_invoice(bench)
    bench.control.add_payment(inv["invoice_id"], "1.00")
    connector = bench.connector()
    fee = LateFee(Decimal("9.99"), inv["currency"], "Late fee")
    result = connector.add_charge(inv["invoice_id"], fee, idempotency_key="acme:7:fee/l:1")
    again = connector.add_charge(inv["invoice_id"], fee, idempotency_key="acme:7:fee/l:1")
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
    result = connector.add_charge(inv["invoice_id"], fee, idempotency_key="acme:8:fee/l:1")
    assert result.detail and "cannot be edited" in result.detail
    assert len(bench.control.writes()["created_invoices"]) == 1
    refused = [r for r in bench.api_requests() if r["method"] == "POST"]
    assert [r["status"] for r in refused] == [400]


def test_fee_in_another_currency_is_refused(bench: Bench) -> None:
    inv = open_invoice(bench)
    other = "AUD" if inv["currency"] != "AUD" else "USD"
    with pytest.raises(PermanentError, match="cannot go on an invoice"):
        bench.connector().add_charge(
            inv["invoice_id"], LateFee(Decimal(1), other, "Fee"), idempotency_key="acme:10"
        )
