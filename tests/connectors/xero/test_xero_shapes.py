"""Records decoded into Structs: misfits, odd dates, huge numbers and Unicode, each mapped or
skipped with a reason, never failing the page, and every amount exact.

Each case is a list body as Xero could send it, read by :func:`wire.decode` and built into a
page; where the old dict mapper (``legacy_mapping``) reads the same bytes, the records must
be the ones it made.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import Page, SkippedRecord
from connectors.xero import pages, wire
from connectors.xero.values import MappingError, parse_date, parse_datetime

from . import legacy_mapping

INVOICE: dict[str, Any] = {
    "Type": "ACCREC",
    "InvoiceID": "1bf28f0c-a793-4456-9a3d-79e94e84a783",
    "InvoiceNumber": "INV-0001",
    "Contact": {"ContactID": "360b7fa1", "Name": "W"},
    "Date": "/Date(1730851200000+0000)/",
    "DueDate": "2024-11-26T00:00:00",
    "Status": "AUTHORISED",
    "LineItems": [{"LineItemID": "a", "Description": "Workshop", "LineAmount": "1300.10"}],
    "Total": "1300.10",
    "AmountDue": "1000.10",
    "UpdatedDateUTC": "/Date(1731741537538+0000)/",
    "CurrencyCode": "NZD",
}


def _body(collection: str, *records: str) -> bytes:
    return ("{" + json.dumps(collection) + ": [" + ",".join(records) + "]}").encode()


def _invoice(**changes: Any) -> str:
    """The invoice's JSON with ``changes``; a value given as ``Raw`` goes in as its text."""
    parts = {**INVOICE, **changes}
    return (
        "{"
        + ",".join(
            f"{json.dumps(k)}: {v.text if isinstance(v, Raw) else json.dumps(v)}"
            for k, v in parts.items()
        )
        + "}"
    )


class Raw:
    """A JSON value written as given (numbers json.dumps cannot spell exactly)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _page(stream: str, collection: str, data: bytes) -> Page:
    return pages.build(stream, wire.decode(data, collection).rows, None, "NZD")


def _legacy(stream: str, collection: str, data: bytes) -> Page:
    rows = json.loads(data, parse_float=Decimal)[collection]
    return legacy_mapping.build(stream, [r for r in rows if isinstance(r, dict)], None, None, "NZD")


def _records(page: Page) -> list[Any]:
    return [*page.customers, *page.invoices, *page.payments, *page.deletions]


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("1300.10", Decimal("1300.10")),
        ("0.1", Decimal("0.1")),
        ("999999999999.999999", Decimal("999999999999.999999")),
        ("1E+3", Decimal("1E+3")),
        ("-0.00", Decimal("-0.00")),
        ('"12.50"', Decimal("12.50")),
        ("12", Decimal(12)),
    ],
)
def test_amounts_stay_exact_whatever_their_spelling(value: str, kept: Decimal) -> None:
    data = _body("Invoices", _invoice(Total=Raw(value), AmountDue=Raw("0")))
    page = _page("invoices", "Invoices", data)
    (invoice,) = page.invoices
    assert invoice.total == kept and str(invoice.total) == str(kept)
    assert _records(page) == _records(_legacy("invoices", "Invoices", data))


@pytest.mark.parametrize(
    "value",
    [
        "1000000000000",
        "123456789012345678901234567890",
        "1e400",
        "-99999999999999999999.5",
        "1000000000000.000001",
    ],
)
def test_huge_numbers_are_skipped_with_their_reason(value: str) -> None:
    good = _invoice(InvoiceID="good")
    data = _body("Invoices", _invoice(InvoiceID="huge", Total=Raw(value)), good)
    page = _page("invoices", "Invoices", data)
    assert [i.provider_id for i in page.invoices] == ["good"]
    (skipped,) = page.skipped
    assert skipped.provider_id == "huge" and "Total" in skipped.reason
    assert "beyond any amount" in skipped.reason or "negative" in skipped.reason
    assert page.skipped == _legacy("invoices", "Invoices", data).skipped


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("UpdatedDateUTC", "/Date(99999999999999999999+0000)/", "not a Xero timestamp"),
        ("UpdatedDateUTC", "2024-13-45T00:00:00", "not a Xero timestamp"),
        ("UpdatedDateUTC", 1731741537538, "missing"),
        ("Date", "/Date(abc)/", "Date is not a date"),
        ("DueDate", "/Date(-99999999999999999)/", "DueDate is not a date"),
        ("DueDate", "tomorrow", "DueDate is not a date"),
    ],
)
def test_odd_dates_skip_their_record_only(field: str, value: Any, reason: str) -> None:
    data = _body("Invoices", _invoice(InvoiceID="odd", **{field: value}), _invoice(InvoiceID="ok"))
    page = _page("invoices", "Invoices", data)
    assert [i.provider_id for i in page.invoices] == ["ok"]
    assert [(s.provider_id, reason in s.reason) for s in page.skipped] == [("odd", True)]


@pytest.mark.parametrize(
    ("value", "due"),
    [
        ("/Date(1732579200000+0000)/", "2024-11-26"),
        ("/Date(1732579200000)/", "2024-11-26"),
        ("/Date(1732536000000+1300)/", "2024-11-26"),  # 13:00 NZDT is midnight there
        ("/Date(-86400000+0000)/", "1969-12-31"),
        ("2024-11-26", "2024-11-26"),
        ("2024-11-26T00:00:00", "2024-11-26"),
        (None, None),
        ("", None),
    ],
)
def test_dates_in_either_form(value: Any, due: str | None) -> None:
    data = _body("Invoices", _invoice(DueDate=value))
    (invoice,) = _page("invoices", "Invoices", data).invoices
    assert (invoice.due_date.isoformat() if invoice.due_date else None) == due
    assert _records(_page("invoices", "Invoices", data)) == _records(
        _legacy("invoices", "Invoices", data)
    )


def test_timestamps_beyond_the_calendar_are_refused_not_raised() -> None:
    with pytest.raises(MappingError, match="not a Xero timestamp"):
        parse_datetime("/Date(99999999999999999+0000)/")
    with pytest.raises(MappingError, match="not a date"):
        parse_date("/Date(99999999999999999+0000)/", "Date")


def test_misfit_rows_cost_one_record_and_name_it() -> None:
    misfits = [
        _invoice(InvoiceID="lines", LineItems="three of them"),
        _invoice(InvoiceID="line", LineItems=[7]),
        _invoice(InvoiceID="object", LineItems={"a": 1}),
        _invoice(InvoiceID="contact", Contact="Acme"),  # read as no contact
    ]
    bill = _invoice(InvoiceID="bill", Type="ACCPAY", LineItems=5)  # never syncd's: left out
    data = _body("Invoices", *misfits, "7", "null", '"text"', bill, _invoice(InvoiceID="ok"))
    page = _page("invoices", "Invoices", data)
    assert [i.provider_id for i in page.invoices] == ["ok"]
    reasons = {s.provider_id: s.reason for s in page.skipped}
    assert set(reasons) == {"lines", "line", "object", "contact"}
    assert "$.LineItems" in reasons["lines"] and "$.LineItems[0]" in reasons["line"]
    assert reasons["contact"] == "invoices: Contact.ContactID is missing"
    assert all(isinstance(s, SkippedRecord) and s.raw["InvoiceID"] for s in page.skipped)
    # Whatever was skipped the old way is skipped now, and the rest maps the same.
    old = _legacy("invoices", "Invoices", data)
    assert {s.provider_id for s in old.skipped} == set(reasons)
    assert _records(page) == _records(old)


def test_a_payment_whose_invoice_is_not_an_object_is_skipped_and_its_page_kept() -> None:
    payment = {
        "PaymentID": "p1",
        "PaymentType": "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "Date": "/Date(1730851200000+0000)/",
        "Amount": 10.5,
        "UpdatedDateUTC": "/Date(1731741537538+0000)/",
        "Invoice": {"InvoiceID": "i1", "CurrencyCode": "NZD", "Contact": "c"},
    }
    data = _body(
        "Payments",
        json.dumps(payment),
        json.dumps({**payment, "PaymentID": "p2", "Invoice": "i1"}),
        json.dumps({**payment, "PaymentID": "p3", "PaymentType": "ACCPAYPAYMENT", "Invoice": []}),
    )
    page = _page("payments", "Payments", data)
    assert [(p.provider_id, p.amount, p.customer_provider_id) for p in page.payments] == [
        ("p1", Decimal("10.5"), None)
    ]
    assert [(s.provider_id, s.reason) for s in page.skipped] == [
        ("p2", "payments: payment has no Invoice")
    ]
    assert _records(page) == _records(_legacy("payments", "Payments", data))


#: As written inside a JSON string: quotes and some characters escaped, the rest as UTF-8.
NAME = '<b>Ōtāhuhu</b> & Søn \\"Ltd\\" 🚀 مرحبا \\u00e9\\ud83d\\ude00'


def test_unicode_is_read_and_kept_exactly_as_sent() -> None:
    contact = (
        '{"ContactID": "c1", "Name": "' + NAME + '", "ContactStatus": "ACTIVE",'
        ' "EmailAddress": "ōtāhuhu@例え.jp", "UpdatedDateUTC": "/Date(1731741537538+0000)/",'
        ' "Balances": {"AccountsReceivable": {"Outstanding": 1.50}},'
        ' "Addresses": [{"AddressType": "POBOX", "AddressLine1": "Ōrākei 1",'
        ' "Country": "Aotearoa"}]}'
    )
    data = _body("Contacts", contact)
    page = _page("contacts", "Contacts", data)
    (customer,) = page.customers
    assert customer.name == json.loads('"' + NAME + '"')
    assert customer.email == "ōtāhuhu@例え.jp" and customer.country == "NZ"
    assert customer.address == ("Ōrākei 1", "Aotearoa")
    assert customer.raw_json is not None and NAME in customer.raw_json  # escapes as sent
    assert "Balances" not in customer.raw_json and "Balances" not in customer.raw
    assert dict(customer.raw) == json.loads(customer.raw_json)
    assert _records(page) == _records(_legacy("contacts", "Contacts", data))


def test_text_that_is_not_utf8_is_a_transient_answer() -> None:
    from connectors.base import TransientError

    with pytest.raises(TransientError):
        wire.decode(b'{"Invoices": [{"InvoiceID": "\xff\xfe"}]}', "Invoices")
