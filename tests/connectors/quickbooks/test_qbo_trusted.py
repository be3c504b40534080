"""The mapper's trusted constructors build the very records the checked constructors do."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors.base import (
    Allocation,
    CustomerRecord,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    PaymentKind,
    PaymentRecord,
)
from connectors.quickbooks import trusted

_AT = datetime(2026, 5, 5, 9, 11, 27, tzinfo=UTC)


def test_same_records_as_the_checked_constructors() -> None:
    line = InvoiceLine("1", "Consulting", Decimal("12.50"), "5", None)
    args = dict(
        provider_id="130",
        number="1037",
        customer_provider_id="7",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        currency="USD",
        total=Decimal("12.50"),
        balance=Decimal("2.50"),
        status=InvoiceStatus.OPEN,
        updated_at=_AT,
        version="3",
        lines=(line,),
        pay_url=None,
        raw={"Id": "130"},
        raw_json='{"Id": "130"}',
    )
    fast = trusted.invoice_record(**args)
    assert type(fast) is InvoiceRecord
    assert dataclasses.astuple(fast) == dataclasses.astuple(InvoiceRecord(**args))  # type: ignore[arg-type]
    assert trusted.invoice_line("1", "Consulting", Decimal("12.50"), "5", None) == line
    assert trusted.allocation("130", Decimal(1)) == Allocation("130", Decimal(1))


def test_defaults_are_the_declared_ones() -> None:
    fast = trusted.customer_record(
        provider_id="7", name="Acme", email=None, currency="USD", updated_at=_AT
    )
    assert fast == CustomerRecord("7", "Acme", None, "USD", _AT)
    assert fast.raw == {} and fast.raw_json is None and fast.groups == ()
    payment = trusted.payment_record(
        "9", PaymentKind.PAYMENT, "7", None, "USD", Decimal(5), Decimal(0), _AT
    )
    assert payment == PaymentRecord(
        "9", PaymentKind.PAYMENT, "7", None, "USD", Decimal(5), Decimal(0), _AT
    )
    assert payment.allocations == () and payment.deleted is False


def test_records_stay_immutable() -> None:
    fast = trusted.allocation("130", Decimal(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.amount = Decimal(2)  # type: ignore[misc]
