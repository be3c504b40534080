"""The Xero mapper builds its records through the trusted constructors of ``connectors.kit``.

Its own readers have already made every timestamp UTC-aware and every amount a ``Decimal``,
so the records' ``__post_init__`` re-checks are skipped; the equivalence tests against
``legacy_mapping`` (the checked constructors) hold the records equal field for field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    PaymentKind,
    PaymentRecord,
)
from connectors.kit import trusted
from connectors.xero import mapping, prepaid, shapes

from .test_xero_mapping import CONTACT, INVOICE, load

_AT = datetime(2026, 5, 5, 9, 11, 27, tzinfo=UTC)
_NOTE = {
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
_PAYMENT = {
    "PaymentID": "p1",
    "Date": "/Date(1731715200000+0000)/",
    "Amount": Decimal("559.00"),
    "PaymentType": "ACCRECPAYMENT",
    "Status": "AUTHORISED",
    "UpdatedDateUTC": "/Date(1731938387186+0000)/",
    "Invoice": {"InvoiceID": "i1", "Type": "ACCREC", "Contact": {"ContactID": "c1"}},
}


def _unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any checked construction of a record now fails the test."""

    def refuse(self: Any) -> None:
        raise AssertionError(f"{type(self).__name__} built through its checking constructor")

    for cls in (CustomerRecord, InvoiceLine, InvoiceRecord, Allocation, PaymentRecord, Deletion):
        monkeypatch.setattr(cls, "__post_init__", refuse)


def test_the_mapper_builds_records_without_rechecking_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = (
        mapping.customer(load(CONTACT)),
        mapping.invoice(load(INVOICE), None),
        mapping.payment(_PAYMENT, "NZD"),
        mapping.payment({**_PAYMENT, "Status": "DELETED"}, "NZD"),
        mapping.credit_note(_NOTE, None),
        mapping.credit_note({**_NOTE, "Status": "VOIDED"}, None),
    )
    deposit = msgspec_document({**_NOTE, "PrepaymentID": "d1", "Type": "RECEIVE-PREPAYMENT"})
    _unchecked(monkeypatch)
    got = (
        mapping.customer(load(CONTACT)),
        mapping.invoice(load(INVOICE), None),
        mapping.payment(_PAYMENT, "NZD"),
        mapping.payment({**_PAYMENT, "Status": "DELETED"}, "NZD"),
        mapping.credit_note(_NOTE, None),
        mapping.credit_note({**_NOTE, "Status": "VOIDED"}, None),
    )
    assert got == expected
    for fast, checked in zip(got, expected, strict=True):
        assert fast is not None and checked is not None
        # Every slot, the uncompared raw and raw_json too.
        assert dataclasses.astuple(fast) == dataclasses.astuple(checked)
    held = prepaid.MAPPERS["prepayments"](deposit, None, {}, None)
    assert isinstance(held, PaymentRecord) and held.amount == Decimal("100.00")
    gone = prepaid.MAPPERS["prepayments"](
        msgspec_document({**_NOTE, "PrepaymentID": "d1", "Type": None, "Status": "VOIDED"}),
        None,
        {},
        None,
    )
    assert isinstance(gone, Deletion)


def msgspec_document(raw: dict[str, Any]) -> shapes.Document:
    return mapping.shaped(raw, shapes.Document)


def test_kit_deletion_is_the_checked_one() -> None:
    fast = trusted.deletion(EntityKind.PAYMENTS, "n1", _AT, PaymentKind.CREDIT_NOTE)
    assert type(fast) is Deletion
    assert fast == Deletion(EntityKind.PAYMENTS, "n1", _AT, PaymentKind.CREDIT_NOTE)
    assert trusted.deletion(EntityKind.INVOICES, "i", _AT) == Deletion(
        EntityKind.INVOICES, "i", _AT
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.provider_id = "x"  # type: ignore[misc]
