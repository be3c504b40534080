"""The control API: payments, invoices, clock and truth, seen through the SDK."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.xero.sandbox import SandboxControlError


def _authorised(control):  # type: ignore[no-untyped-def]
    rows = control.truth()["invoices"]
    return next(
        r
        for r in rows
        if r["status"] == "AUTHORISED" and r["amount_paid"] == r["amount_credited"] == "0.00"
    )


def test_partial_full_and_deleted_payments(session) -> None:  # type: ignore[no-untyped-def]
    row = _authorised(session.control)
    total = Decimal(row["total"])
    part = session.control.add_payment(row["invoice_id"], "10.00", reference="bank feed")
    inv = session.api.get_invoice(session.tenant_id, row["invoice_id"]).invoices[0]
    assert Decimal(str(inv.amount_due)) == total - Decimal("10.00")
    rest = session.control.add_payment(row["invoice_id"])
    assert Decimal(rest["amount"]) == total - Decimal("10.00")
    inv = session.api.get_invoice(session.tenant_id, row["invoice_id"]).invoices[0]
    assert inv.status == "PAID" and inv.amount_due == 0 and inv.fully_paid_on_date is not None
    session.control.delete_payment(part["payment_id"])
    inv = session.api.get_invoice(session.tenant_id, row["invoice_id"]).invoices[0]
    assert inv.status == "AUTHORISED"
    assert Decimal(str(inv.amount_due)) == Decimal("10.00")
    payment = session.api.get_payment(session.tenant_id, part["payment_id"]).payments[0]
    assert payment.status == "DELETED"
    assert payment.invoice.invoice_id == row["invoice_id"]
    truth = {p["payment_id"]: p for p in session.control.truth()["payments"]}
    assert truth[part["payment_id"]]["status"] == "DELETED"
    with pytest.raises(SandboxControlError) as info:
        session.control.add_payment(row["invoice_id"], "99999999")
    assert info.value.status == 400


def test_control_invoice_create_edit_void_delete(session) -> None:  # type: ignore[no-untyped-def]
    contact_id = session.control.truth()["contacts"][0]["contact_id"]
    made = session.control.create_invoice(
        contact_id=contact_id,
        status="AUTHORISED",
        due_date="2026-05-15",
        lines=[
            {
                "description": "Support",
                "quantity": "2",
                "unit_amount": "50.00",
                "account_code": "200",
            }
        ],
    )
    assert made["total"] == "115.00" and made["status"] == "AUTHORISED"
    edited = session.control.edit_invoice(made["invoice_id"], reference="PO 77")
    assert edited["invoice_id"] == made["invoice_id"]
    assert (
        session.api.get_invoice(session.tenant_id, made["invoice_id"]).invoices[0].reference
        == "PO 77"
    )
    assert session.control.void_invoice(made["invoice_id"])["status"] == "VOIDED"
    draft = session.control.create_invoice(
        contact_id=contact_id, lines=[{"description": "x", "unit_amount": "1"}]
    )
    assert session.control.delete_invoice(draft["invoice_id"])["status"] == "DELETED"
    assert session.control.writes()["created_invoices"] == [], (
        "control changes are not client writes"
    )


def test_clock(session) -> None:  # type: ignore[no-untyped-def]
    before = session.control.now()
    after = session.control.advance(3600)
    assert (after - before).total_seconds() >= 3600
    with pytest.raises(SandboxControlError):
        session.control.set_time(before)


def test_truth_shape(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()
    assert truth["tenant_id"] == session.tenant_id
    inv = truth["invoices"][0]
    assert set(inv) >= {"invoice_id", "status", "total", "amount_due", "currency", "contact_id"}
    Decimal(inv["total"])
    assert all(
        p["invoice_id"] in {i["invoice_id"] for i in truth["invoices"]} for p in truth["payments"]
    )


def test_unknown_control_endpoint(control) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SandboxControlError) as info:
        control._call("GET", "/nope")
    assert info.value.status == 404
