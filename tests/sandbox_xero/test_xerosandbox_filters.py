"""where / Statuses / IDs / order / If-Modified-Since, as the SDK sends them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest
from xero_python.exceptions import AccountingBadRequestException


def _all(session, **kwargs):  # type: ignore[no-untyped-def]
    return session.api.get_invoices(session.tenant_id, page=1, page_size=1000, **kwargs).invoices


def test_type_and_status_where(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()["invoices"]
    got = _all(session, where='Type=="ACCREC" AND Status=="AUTHORISED"')
    assert {i.invoice_id for i in got} == {
        r["invoice_id"] for r in truth if r["status"] == "AUTHORISED"
    }
    either = _all(session, where='Status=="DRAFT" OR Status=="SUBMITTED"')
    assert {i.status for i in either} == {"DRAFT", "SUBMITTED"}


def test_accpay_bills_exist_so_the_type_filter_matters(session) -> None:  # type: ignore[no-untyped-def]
    everything = _all(session)
    assert {i.type for i in everything} == {"ACCREC", "ACCPAY"}
    assert all(i.type == "ACCREC" for i in _all(session, where='Type=="ACCREC"'))


def test_voided_and_deleted_come_back_by_default_and_by_status(session) -> None:  # type: ignore[no-untyped-def]
    statuses = {i.status for i in _all(session)}
    assert {"VOIDED", "DELETED", "PAID", "AUTHORISED", "DRAFT"} <= statuses
    only = _all(session, statuses=["VOIDED", "DELETED"])
    assert only and {i.status for i in only} <= {"VOIDED", "DELETED"}
    for inv in only:
        assert inv.amount_due == 0


def test_contact_guid_date_and_amount_where(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()["invoices"]
    contact_id = truth[0]["contact_id"]
    mine = _all(session, where=f'Contact.ContactID==Guid("{contact_id}")')
    assert {i.invoice_id for i in mine} == {
        r["invoice_id"] for r in truth if r["contact_id"] == contact_id
    } | {i.invoice_id for i in mine if i.type == "ACCPAY"}
    since = _all(session, where='Type=="ACCREC" AND Date>=DateTime(2026,01,01)')
    assert since and all(i.date >= date(2026, 1, 1) for i in since)
    owing = _all(session, where='Type=="ACCREC" && AmountDue>0')
    expected = {r["invoice_id"] for r in truth if Decimal(r["amount_due"]) > 0}
    assert {i.invoice_id for i in owing} == expected


def test_ids_numbers_contact_ids_and_order(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()["invoices"]
    picked = truth[:3]
    by_id = _all(session, i_ds=[r["invoice_id"] for r in picked])
    assert {i.invoice_id for i in by_id} == {r["invoice_id"] for r in picked}
    by_number = _all(session, invoice_numbers=[r["invoice_number"] for r in picked])
    assert {i.invoice_number for i in by_number} == {r["invoice_number"] for r in picked}
    by_contact = _all(session, contact_i_ds=[picked[0]["contact_id"]], where='Type=="ACCREC"')
    assert all(i.contact.contact_id == picked[0]["contact_id"] for i in by_contact)
    desc = _all(session, where='Type=="ACCREC"', order="InvoiceNumber DESC")
    numbers = [i.invoice_number for i in desc]
    assert numbers == sorted(numbers, reverse=True)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ('Colour=="red"', "No property or field 'Colour' exists in type 'Invoice'"),
        (
            'Contact.ContactID=="abc"',
            "Operator '==' incompatible with operand types 'Guid' and 'String'",
        ),
        ('Type=="ACCREC" AND', "Expression expected"),
    ],
)
def test_unsupported_where_is_a_400(session, where: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AccountingBadRequestException) as info:
        session.api.get_invoices(session.tenant_id, where=where, page=1)
    assert info.value.error_data["Type"] == "QueryParseException"
    assert info.value.error_data["ErrorNumber"] == 16
    assert info.value.error_data["Message"] == message


def test_if_modified_since_returns_records_modified_after(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()["invoices"]
    stamps = sorted(datetime.fromisoformat(r["updated"]) for r in truth)
    cut = stamps[len(stamps) // 2]
    got = _all(session, if_modified_since=cut, where='Type=="ACCREC"')
    assert {i.invoice_id for i in got} == {
        r["invoice_id"] for r in truth if datetime.fromisoformat(r["updated"]) > cut
    }
    # Naive datetimes (xero-python sends isoformat without offset) are read as UTC.
    naive = _all(session, if_modified_since=cut.replace(tzinfo=None), where='Type=="ACCREC"')
    assert {i.invoice_id for i in naive} == {i.invoice_id for i in got}


def test_if_modified_since_sees_new_payments(session) -> None:  # type: ignore[no-untyped-def]
    before = session.control.now()
    target = next(r for r in session.control.truth()["invoices"] if r["status"] == "AUTHORISED")
    session.control.add_payment(target["invoice_id"], "1.00")
    changed = _all(session, if_modified_since=before)
    assert [i.invoice_id for i in changed] == [target["invoice_id"]]
    payments = session.api.get_payments(session.tenant_id, if_modified_since=before).payments
    assert [p.invoice.invoice_id for p in payments] == [target["invoice_id"]]


def test_rfc1123_if_modified_since(session, raw_get) -> None:  # type: ignore[no-untyped-def]
    now = session.control.now()
    header = format_datetime((now - timedelta(days=20)).astimezone(UTC), usegmt=True)
    body = raw_get(session, "/Invoices", headers={"If-Modified-Since": header}, page="1").json()
    iso = _all(session, if_modified_since=(now - timedelta(days=20)).replace(microsecond=0))
    assert {i["InvoiceID"] for i in body["Invoices"]} == {i.invoice_id for i in iso}


def test_contacts_archived_summary_and_where(session) -> None:  # type: ignore[no-untyped-def]
    truth = session.control.truth()["contacts"]
    archived = {c["contact_id"] for c in truth if c["status"] == "ARCHIVED"}
    assert archived
    default = session.api.get_contacts(session.tenant_id, page=1).contacts
    assert not archived & {c.contact_id for c in default}
    everything = session.api.get_contacts(session.tenant_id, page=1, include_archived=True).contacts
    assert archived <= {c.contact_id for c in everything}
    named = session.api.get_contacts(session.tenant_id, where='Name.Contains("Ltd")').contacts
    assert all("ltd" in c.name.lower() for c in named)
    summary = session.api.get_contacts(session.tenant_id, page=1, summary_only=True).contacts
    assert summary and all(c.balances is None for c in summary)


def test_summary_only_invoices_drop_line_items(session) -> None:  # type: ignore[no-untyped-def]
    invoices = session.api.get_invoices(session.tenant_id, page=1, summary_only=True).invoices
    assert invoices and all(not i.line_items for i in invoices)


def test_payments_where_and_single_get(session) -> None:  # type: ignore[no-untyped-def]
    payments = session.api.get_payments(
        session.tenant_id, where='Status=="AUTHORISED"', page=1
    ).payments
    assert payments and all(p.status == "AUTHORISED" for p in payments)
    one = session.api.get_payment(session.tenant_id, payments[0].payment_id).payments[0]
    assert one.invoice.invoice_id == payments[0].invoice.invoice_id
    deleted = session.api.get_payments(session.tenant_id, where='Status=="DELETED"').payments
    assert deleted, "the seed has a dishonoured (deleted) payment"
