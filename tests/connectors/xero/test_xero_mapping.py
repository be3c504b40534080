"""Xero JSON to normalised records, and the small pure pieces of the connector."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Deletion, InvoiceStatus, PaymentKind, PaymentRecord, PermanentError
from connectors.xero import mapping, wire
from connectors.xero.client import XeroConnector
from connectors.xero.fees import exact_numbers
from connectors.xero.limits import DayLimitReached, RateGovernor
from connectors.xero.notes import fit_note, header_key
from connectors.xero.positions import Position
from connectors.xero.settings import XeroOptions
from connectors.xero.transport import RawResponse

from .conftest import rows_of

# A contact and an invoice as Xero sends them (parsed the way the connector parses bodies).
CONTACT = """{"ContactID": "5809d123-80de-4082-b157-a0870b481894", "ContactStatus": "ACTIVE",
 "Name": "Kowhai Marine & Co", "EmailAddress": "", "UpdatedDateUTC": "/Date(1718970645332+0000)/",
 "DefaultCurrency": "USD", "Balances": {"AccountsReceivable": {"Outstanding": 1660.17}},
 "ContactPersons": [{"EmailAddress": "nope@k.test", "IncludeInEmails": false},
                    {"EmailAddress": "dev@k.test", "IncludeInEmails": true}]}"""
INVOICE = """{"Type": "ACCREC", "InvoiceID": "1bf28f0c-a793-4456-9a3d-79e94e84a783",
 "InvoiceNumber": "INV-0001", "Contact": {"ContactID": "360b7fa1", "Name": "W", "Phones": []},
 "Date": "/Date(1730851200000+0000)/", "DueDate": "2024-11-26T00:00:00", "Status": "AUTHORISED",
 "LineItems": [{"LineItemID": "a", "Description": "Workshop", "LineAmount": 1300.10,
                "ItemCode": "TRN"},
               {"LineItemID": "b", "Description": "Late fee [syncd:o:i:fee/r:1]",
                "LineAmount": 0.1}],
 "Total": 1300.20, "AmountDue": 1000.20, "AmountPaid": 300, "UpdatedDateUTC":
 "/Date(1731741537538+0000)/", "CurrencyCode": "NZD"}"""


def load(text: str, **changes: Any) -> dict[str, Any]:
    raw = json.loads(text, parse_float=Decimal)
    raw.update(changes)
    return dict(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1731741537538+0000)/", datetime(2024, 11, 16, 7, 18, 57, 538000, tzinfo=UTC)),
        ("/Date(1731741537538+1300)/", datetime(2024, 11, 16, 7, 18, 57, 538000, tzinfo=UTC)),
        ("/Date(1731741537538)/", datetime(2024, 11, 16, 7, 18, 57, 538000, tzinfo=UTC)),
        ("2024-11-16T07:18:57.538", datetime(2024, 11, 16, 7, 18, 57, 538000, tzinfo=UTC)),
        ("2024-11-16T20:18:57.538+13:00", datetime(2024, 11, 16, 7, 18, 57, 538000, tzinfo=UTC)),
        ("2024-11-16T07:18:57Z", datetime(2024, 11, 16, 7, 18, 57, tzinfo=UTC)),
    ],
)
def test_timestamps_in_both_forms(value: str, expected: datetime) -> None:
    parsed = mapping.parse_datetime(value)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1730851200000+0000)/", date(2024, 11, 6)),
        # Local midnight in Auckland is the previous day in UTC: the offset decides the date.
        ("/Date(1730804400000+1300)/", date(2024, 11, 6)),
        ("2024-11-06T00:00:00", date(2024, 11, 6)),
        ("2024-11-06", date(2024, 11, 6)),
        (None, None),
    ],
)
def test_dates_in_both_forms(value: str | None, expected: date | None) -> None:
    assert mapping.parse_date(value, "Date") == expected


def test_unparsable_dates_are_mapping_errors() -> None:
    with pytest.raises(mapping.MappingError):
        mapping.parse_datetime("yesterday")
    with pytest.raises(mapping.MappingError):
        mapping.parse_date("/Date(abc)/", "DueDate")


def test_invoice_maps_exactly() -> None:
    record = mapping.invoice(load(INVOICE), None)
    assert record.status is InvoiceStatus.OPEN
    assert (record.total, record.balance) == (Decimal("1300.20"), Decimal("1000.20"))
    assert str(record.total) == "1300.20"  # no float ever touched it
    assert (record.issue_date, record.due_date) == (date(2024, 11, 6), date(2024, 11, 26))
    assert record.customer_provider_id == "360b7fa1" and record.currency == "NZD"
    assert record.version == "/Date(1731741537538+0000)/"
    assert [ln.amount for ln in record.lines] == [Decimal("1300.10"), Decimal("0.1")]
    assert [ln.fee_key for ln in record.lines] == [None, "o:i:fee/r:1"]
    assert record.lines[0].item_ref == "TRN"
    assert record.raw["Contact"] == {"ContactID": "360b7fa1", "Name": "W"}


@pytest.mark.parametrize(
    ("status", "due", "expected", "balance"),
    [
        ("DRAFT", "10.00", InvoiceStatus.DRAFT, "10.00"),
        ("SUBMITTED", "10.00", InvoiceStatus.DRAFT, "10.00"),
        ("AUTHORISED", "10.00", InvoiceStatus.OPEN, "10.00"),
        ("AUTHORISED", "0", InvoiceStatus.PAID, "0"),
        ("PAID", "0", InvoiceStatus.PAID, "0"),
        ("VOIDED", "10.00", InvoiceStatus.VOIDED, "0"),
        ("DELETED", "10.00", InvoiceStatus.DELETED, "0"),
    ],
)
def test_invoice_status(status: str, due: str, expected: InvoiceStatus, balance: str) -> None:
    record = mapping.invoice(load(INVOICE, Status=status, AmountDue=Decimal(due)), None)
    assert (record.status, record.balance) == (expected, Decimal(balance))


def test_floats_and_unknowns_are_refused() -> None:
    with pytest.raises(mapping.MappingError, match="float"):
        mapping.invoice(load(INVOICE, Total=1300.2), None)
    with pytest.raises(mapping.MappingError, match="Status"):
        mapping.invoice(load(INVOICE, Status="ARCHIVED"), None)
    with pytest.raises(mapping.MappingError, match="CurrencyCode"):
        mapping.invoice(load(INVOICE, CurrencyCode=None), None)
    assert mapping.invoice(load(INVOICE, CurrencyCode=None), "NZD").currency == "NZD"


def test_contact_email_falls_back_to_persons_included_in_emails() -> None:
    record = mapping.customer(load(CONTACT))
    assert record.email == "dev@k.test" and record.currency == "USD" and record.active
    assert "Balances" not in record.raw  # changes daily without UpdatedDateUTC moving
    archived = mapping.customer(load(CONTACT, ContactStatus="ARCHIVED", EmailAddress="a@k.test"))
    assert (archived.email, archived.active, archived.deleted) == ("a@k.test", False, False)
    nobody = mapping.customer(load(CONTACT, ContactPersons=[]))
    assert nobody.email is None


def test_payments_and_credit_notes() -> None:
    payment = {
        "PaymentID": "p1",
        "Date": "/Date(1731715200000+0000)/",
        "Amount": Decimal("559.00"),
        "PaymentType": "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "UpdatedDateUTC": "/Date(1731938387186+0000)/",
        "Invoice": {
            "InvoiceID": "i1",
            "Type": "ACCREC",
            "CurrencyCode": "USD",
            "Contact": {"ContactID": "c1"},
        },
    }
    record = mapping.payment(payment, None)
    assert isinstance(record, PaymentRecord)
    assert (record.amount, record.currency, record.customer_provider_id) == (
        Decimal("559.00"),
        "USD",
        "c1",
    )
    assert [(a.invoice_provider_id, a.amount) for a in record.allocations] == [("i1", 559)]
    gone = mapping.payment({**payment, "Status": "DELETED"}, None)
    assert isinstance(gone, Deletion) and gone.kind is PaymentKind.PAYMENT
    assert mapping.payment({**payment, "PaymentType": "ACCPAYPAYMENT"}, None) is None

    note = {
        "CreditNoteID": "n1",
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Total": Decimal("100.00"),
        "RemainingCredit": Decimal("40.00"),
        "CurrencyCode": "NZD",
        "Contact": {"ContactID": "c1"},
        "UpdatedDateUTC": "/Date(1770998749560+0000)/",
        "Allocations": [{"Amount": Decimal("60.00"), "Invoice": {"InvoiceID": "i2"}}],
    }
    credit = mapping.credit_note(note, None)
    assert isinstance(credit, PaymentRecord) and credit.kind is PaymentKind.CREDIT_NOTE
    assert (credit.amount, credit.unapplied) == (Decimal("100.00"), Decimal("40.00"))
    assert [(a.invoice_provider_id, a.amount) for a in credit.allocations] == [("i2", 60)]
    assert isinstance(mapping.credit_note({**note, "Status": "VOIDED"}, None), Deletion)
    assert mapping.credit_note({**note, "Status": "DRAFT"}, None) is None


def test_a_bad_record_is_skipped_not_fatal() -> None:
    connector = XeroConnector.__new__(XeroConnector)  # only the pure page builder is used
    connector.options = XeroOptions()
    good = load(INVOICE)
    bad = load(INVOICE, InvoiceID="bad", CurrencyCode="Dollars")
    bill = load(INVOICE, InvoiceID="bill", Type="ACCPAY")
    page = connector._page("invoices", rows_of("Invoices", good, bad, bill), "c")
    assert [i.provider_id for i in page.invoices] == [good["InvoiceID"]]
    assert [(s.provider_id, "CurrencyCode" in s.reason) for s in page.skipped] == [("bad", True)]


def row(ms: int) -> wire.Row:
    return rows_of("Invoices", {"UpdatedDateUTC": f"/Date({ms}+0000)/"})[0]


def test_keyset_position_moves_to_a_second_before_the_newest_row() -> None:
    start = Position("invoices")
    after = start.after([row(1_700_000_000_000), row(1_700_000_005_250)])
    assert after.since == datetime(2023, 11, 14, 22, 13, 24, tzinfo=UTC) and after.page == 1
    # A whole page inside the boundary second cannot move the cursor: page on instead.
    same = after.after([row(1_700_000_004_100), row(1_700_000_004_900)])
    assert (same.since, same.page) == (after.since, 2)
    assert Position.load(same.dump(), "invoices", ("invoices",)) == same


def test_fit_note_and_keys() -> None:
    assert fit_note("[syncd:k]", "a  b\nc") == "[syncd:k] a b c"
    assert len(fit_note("[syncd:k]", "x" * 400)) == 250
    assert header_key("k" * 128) == "k" * 128
    assert len(header_key("k" * 129)) <= 128 and header_key("k" * 129) != header_key("k" * 130)
    assert mapping.tag_key("acme:1:fee/late:2") == "acme:1:fee/late:2"
    assert mapping.tag_key("with space").startswith("sha-")


def test_amounts_the_sdk_would_round_are_refused() -> None:
    assert exact_numbers({"a": [Decimal("1234567.89")]}) == {"a": [Decimal("1234567.89")]}
    with pytest.raises(PermanentError, match="rounding"):
        exact_numbers({"a": Decimal("12345678901234567.89")})


def test_governor_paces_the_minute_and_refuses_a_spent_day() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    governor = RateGovernor(3, 5, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(4):
        governor.acquire()
    assert slept == [60.0]
    governor.observe({"X-MinLimit-Remaining": "1", "X-DayLimit-Remaining": "10"})
    governor.acquire()  # Xero says the minute is nearly spent: wait for our oldest call
    assert len(slept) == 2 and slept[1] > 0
    with pytest.raises(DayLimitReached):
        governor.acquire()  # the configured day_limit of 5 is spent
    assert len(slept) == 2


def test_raw_response_json_keeps_decimals() -> None:
    body = RawResponse(200, {}, b'{"Total": 0.1, "Count": 3}').json()
    assert body == {"Total": Decimal("0.1"), "Count": 3}
