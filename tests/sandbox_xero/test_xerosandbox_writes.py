"""Invoice writes through the SDK: edit rules, line items, history, email, idempotency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Contact,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    RequestEmpty,
)
from xero_python.exceptions import AccountingBadRequestException


def _pick(session, **want):  # type: ignore[no-untyped-def]
    for row in session.control.truth()["invoices"]:
        if all(row[k] == v for k, v in want.items()):
            return row
    raise AssertionError(f"no invoice with {want}")


def _unpaid_authorised(session):  # type: ignore[no-untyped-def]
    return _pick(session, status="AUTHORISED", amount_paid="0.00", amount_credited="0.00")


def test_edit_refused_once_a_payment_is_allocated(session) -> None:  # type: ignore[no-untyped-def]
    row = _unpaid_authorised(session)
    ok = session.api.update_invoice(
        session.tenant_id,
        row["invoice_id"],
        Invoices(invoices=[Invoice(reference="Before payment")]),
    )
    assert ok.invoices[0].reference == "Before payment"
    session.control.add_payment(row["invoice_id"], "10.00")
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.update_invoice(
            session.tenant_id, row["invoice_id"], Invoices(invoices=[Invoice(reference="After")])
        )
    data = info.value.error_data
    assert data["ErrorNumber"] == 10 and data["Type"] == "ValidationException"
    assert data["Elements"][0]["ValidationErrors"][0]["Message"] == (
        "This document cannot be edited as it has a payment or credit note allocated to it"
    )
    # Voiding is refused too while the payment stands.
    with pytest.raises(AccountingBadRequestException):
        session.api.update_invoice(
            session.tenant_id, row["invoice_id"], Invoices(invoices=[Invoice(status="VOIDED")])
        )


def test_paid_and_voided_are_final(session) -> None:  # type: ignore[no-untyped-def]
    for status in ("PAID", "VOIDED"):
        row = _pick(session, status=status)
        with pytest.raises(AccountingBadRequestException) as info:
            session.api.update_invoice(
                session.tenant_id, row["invoice_id"], Invoices(invoices=[Invoice(reference="x")])
            )
        assert info.value.reason == "Invoice not of valid status for modification"


def test_status_transitions(session) -> None:  # type: ignore[no-untyped-def]
    auth = _unpaid_authorised(session)
    voided = session.api.update_invoice(
        session.tenant_id, auth["invoice_id"], Invoices(invoices=[Invoice(status="VOIDED")])
    ).invoices[0]
    assert voided.status == "VOIDED" and voided.amount_due == 0
    draft = _pick(session, status="DRAFT")
    deleted = session.api.update_invoice(
        session.tenant_id, draft["invoice_id"], Invoices(invoices=[Invoice(status="DELETED")])
    ).invoices[0]
    assert deleted.status == "DELETED"
    other = _unpaid_authorised(session)
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.update_invoice(
            session.tenant_id, other["invoice_id"], Invoices(invoices=[Invoice(status="DRAFT")])
        )
    assert info.value.reason == "Invoice not of valid status for modification"


def test_line_item_edits_keep_ids_and_recompute_totals(session) -> None:  # type: ignore[no-untyped-def]
    row = _unpaid_authorised(session)
    current = session.api.get_invoice(session.tenant_id, row["invoice_id"]).invoices[0]
    keep = current.line_items[0]
    dropped = [li.line_item_id for li in current.line_items[1:]]
    edited = session.api.update_invoice(
        session.tenant_id,
        row["invoice_id"],
        Invoices(
            invoices=[
                Invoice(
                    line_amount_types=LineAmountTypes.EXCLUSIVE,
                    line_items=[
                        LineItem(line_item_id=keep.line_item_id, quantity=2, unit_amount=100),
                        LineItem(
                            description="Late payment fee",
                            quantity=1,
                            unit_amount=25,
                            account_code="260",
                            tax_type="OUTPUT2",
                        ),
                    ],
                )
            ]
        ),
    ).invoices[0]
    ids = [li.line_item_id for li in edited.line_items]
    assert ids[1] == keep.line_item_id, "kept line keeps its id; new lines go first"
    assert edited.line_items[0].description == "Late payment fee"
    assert not set(dropped) & set(ids)
    assert Decimal(str(edited.sub_total)) == Decimal("225.00")
    assert Decimal(str(edited.total_tax)) == Decimal("33.75")
    assert Decimal(str(edited.total)) == Decimal("258.75")
    assert Decimal(str(edited.amount_due)) == Decimal("258.75")
    edits = session.control.writes()["line_edits"]
    assert edits[-1]["invoice_id"] == row["invoice_id"]
    assert [li["line_item_id"] for li in edits[-1]["after"]] == ids


def test_inclusive_and_no_tax_totals(session) -> None:  # type: ignore[no-untyped-def]
    contact_id = session.control.truth()["contacts"][0]["contact_id"]
    made = session.api.create_invoices(
        session.tenant_id,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=contact_id),
                    date=date(2026, 4, 30),
                    due_date=date(2026, 5, 20),
                    status="AUTHORISED",
                    line_amount_types=LineAmountTypes.INCLUSIVE,
                    line_items=[
                        LineItem(description="Fee", quantity=1, unit_amount=115, account_code="200")
                    ],
                ),
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=contact_id),
                    status="DRAFT",
                    line_amount_types=LineAmountTypes.NOTAX,
                    line_items=[LineItem(description="Fee", quantity=3, unit_amount=10.5)],
                ),
            ]
        ),
    ).invoices
    assert (Decimal(str(made[0].sub_total)), Decimal(str(made[0].total_tax))) == (
        Decimal("100"),
        Decimal("15"),
    )
    assert made[0].date == date(2026, 4, 30) and made[0].status == "AUTHORISED"
    assert made[0].invoice_number.startswith("INV-")
    assert Decimal(str(made[1].total)) == Decimal("31.5") and made[1].total_tax == 0
    created = session.control.writes()["created_invoices"]
    assert [c["invoice_id"] for c in created] == [i.invoice_id for i in made]


def test_create_validation_and_summarize_errors_false(session) -> None:  # type: ignore[no-untyped-def]
    contact_id = session.control.truth()["contacts"][0]["contact_id"]
    good = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact_id),
        line_items=[LineItem(description="ok", quantity=1, unit_amount=5, account_code="200")],
    )
    bad = Invoice(
        type="ACCREC", line_items=[LineItem(description="no contact", quantity=1, unit_amount=5)]
    )
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.create_invoices(session.tenant_id, Invoices(invoices=[good, bad]))
    assert info.value.reason == "A Contact must be specified for this type of transaction"
    assert session.control.writes()["created_invoices"] == [], "nothing saved when summarising"
    mixed = session.api.create_invoices(
        session.tenant_id, Invoices(invoices=[good, bad]), summarize_errors=False
    ).invoices
    assert [i.has_errors for i in mixed] == [False, True]
    assert mixed[1].validation_errors[0].message.startswith("A Contact must be specified")
    assert mixed[0].status_attribute_string == "OK"
    assert len(session.control.writes()["created_invoices"]) == 1


def test_update_or_create_matches_by_id(session) -> None:  # type: ignore[no-untyped-def]
    row = _unpaid_authorised(session)
    result = session.api.update_or_create_invoices(
        session.tenant_id,
        Invoices(invoices=[Invoice(invoice_id=row["invoice_id"], due_date=date(2026, 6, 30))]),
    ).invoices[0]
    assert result.invoice_id == row["invoice_id"] and result.due_date == date(2026, 6, 30)


def test_history_notes_and_250_limit(session) -> None:  # type: ignore[no-untyped-def]
    row = _unpaid_authorised(session)
    note = "Reminder 1 sent by syncd"
    created = session.api.create_invoice_history(
        session.tenant_id,
        row["invoice_id"],
        HistoryRecords(history_records=[HistoryRecord(details=note)]),
    )
    assert created.history_records[0].details == note
    assert created.history_records[0].date_utc is not None
    session.api.create_invoice_history(
        session.tenant_id,
        row["invoice_id"],
        HistoryRecords(history_records=[HistoryRecord(details="x" * 250)]),
    )
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.create_invoice_history(
            session.tenant_id,
            row["invoice_id"],
            HistoryRecords(history_records=[HistoryRecord(details="x" * 251)]),
        )
    assert "250" in info.value.reason
    listed = session.api.get_invoice_history(session.tenant_id, row["invoice_id"]).history_records
    notes = [h for h in listed if h.changes == "Note"]
    assert [n.details for n in notes] == ["x" * 250, note]
    assert notes[0].user == "System Generated"
    recorded = session.control.writes()["history_notes"]
    assert [r["details"] for r in recorded] == [note, "x" * 250]


def test_email_preconditions_and_204(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()
    contacts = {c["contact_id"]: c for c in truth["contacts"]}
    sendable = next(
        r for r in truth["invoices"]
        if r["status"] == "AUTHORISED" and contacts[r["contact_id"]]["email_recipients"]
    )  # fmt: skip
    assert (
        session.api.email_invoice(session.tenant_id, sendable["invoice_id"], RequestEmpty()) is None
    )
    assert session.api_client.last_response.status == 204
    sent = session.control.writes()["emails"]
    assert sent[-1]["invoice_id"] == sendable["invoice_id"]
    assert sent[-1]["to"] == contacts[sendable["contact_id"]]["email_recipients"]
    after = session.api.get_invoice(session.tenant_id, sendable["invoice_id"]).invoices[0]
    assert after.sent_to_contact is True

    no_email = next(
        r for r in truth["invoices"]
        if r["status"] == "AUTHORISED" and not contacts[r["contact_id"]]["email_recipients"]
    )  # fmt: skip
    draft = next(r for r in truth["invoices"] if r["status"] == "DRAFT")
    for row in (no_email, draft):
        with pytest.raises(AccountingBadRequestException):
            session.api.email_invoice(session.tenant_id, row["invoice_id"], RequestEmpty())
    person_only = next(
        r for r in truth["invoices"]
        if r["status"] == "AUTHORISED" and not contacts[r["contact_id"]]["email"]
        and contacts[r["contact_id"]]["email_recipients"]
    )  # fmt: skip
    session.api.email_invoice(session.tenant_id, person_only["invoice_id"], RequestEmpty())
    assert len(session.control.writes()["emails"]) == 2


def test_idempotency_key_replays_and_rejects_a_different_body(session) -> None:  # type: ignore[no-untyped-def]
    contact_id = session.control.truth()["contacts"][0]["contact_id"]

    def invoice(amount: float) -> Invoices:
        return Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=contact_id),
                    due_date=date(2026, 5, 31),
                    status="AUTHORISED",
                    line_items=[
                        LineItem(
                            description="Late fee",
                            quantity=1,
                            unit_amount=amount,
                            account_code="260",
                        )
                    ],
                )
            ]
        )

    first = session.api.create_invoices(
        session.tenant_id, invoice(25), idempotency_key="fee-inv-1-2026-05"
    )
    again = session.api.create_invoices(
        session.tenant_id, invoice(25), idempotency_key="fee-inv-1-2026-05"
    )
    assert first.invoices[0].invoice_id == again.invoices[0].invoice_id
    assert len(session.control.writes()["created_invoices"]) == 1
    log = [r for r in session.control.requests() if r["idempotency_key"] == "fee-inv-1-2026-05"]
    assert [r["replayed"] for r in log] == [False, True]
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.create_invoices(
            session.tenant_id, invoice(30), idempotency_key="fee-inv-1-2026-05"
        )
    assert "different request" in info.value.reason
    with pytest.raises(AccountingBadRequestException):
        session.api.create_invoices(session.tenant_id, invoice(25), idempotency_key="k" * 129)
    note = HistoryRecords(history_records=[HistoryRecord(details="once")])
    row = _unpaid_authorised(session)
    for _ in range(2):
        session.api.create_invoice_history(
            session.tenant_id, row["invoice_id"], note, idempotency_key="note-1"
        )
    assert [n["details"] for n in session.control.writes()["history_notes"]] == ["once"]


def test_unknown_invoice_is_404(session) -> None:  # type: ignore[no-untyped-def]
    from xero_python.exceptions import NotFoundException

    with pytest.raises(NotFoundException):
        session.api.get_invoice(session.tenant_id, "00000000-0000-0000-0000-000000000000")
    assert (
        session.api.get_invoice(session.tenant_id, "INV-0001").invoices[0].invoice_number
        == "INV-0001"
    )
