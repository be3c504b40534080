"""The fields of QuickBooks records that syncd reads, as ``msgspec`` Structs.

Decoding straight into these skips every field syncd does not use (most of an invoice's 2 KB)
and reads money as exact ``Decimal`` from the number's text. Types are as loose as the mapper
was with dicts where QuickBooks' own typing varies (ids and sync tokens may come as numbers);
a record that fits none of this is skipped by the page builder with msgspec's reason.
Field names are Intuit's; ``Line`` is renamed because a field named like a class in scope
breaks the annotations.

The Structs are ``gc=False``: a decoded record holds only strings, numbers, ``Decimal`` and
other such Structs, so it can never be part of a reference cycle, and leaving a page's tens of
thousands of them out of the cyclic collector's young generation halves the decode's CPU
(18.5 to 9.7 µs per record on a recorded backfill). ``Loose`` holds arbitrary values and
stays tracked.

:func:`shape_of` converts a python-quickbooks answer (a dict, on the write path) to the same
Structs, so one mapper reads both.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from .fields import MappingError

Key = str | int | None


class Ref(msgspec.Struct, gc=False):
    value: Key = None
    name: str | None = None


class Meta(msgspec.Struct, gc=False):
    LastUpdatedTime: str | None = None
    CreateTime: str | None = None


class ItemDetail(msgspec.Struct, gc=False):
    ItemRef: Ref | None = None


class InnerLine(msgspec.Struct, gc=False):
    Amount: Decimal | None = None


class GroupDetail(msgspec.Struct, gc=False):
    GroupItemRef: Ref | None = None
    lines: list[InnerLine] | None = msgspec.field(default=None, name="Line")


class InvoiceLine(msgspec.Struct, gc=False):
    Id: Key = None
    Description: str | None = None
    Amount: Decimal | None = None
    DetailType: str | None = None
    SalesItemLineDetail: ItemDetail | None = None
    GroupLineDetail: GroupDetail | None = None


class Linked(msgspec.Struct, gc=False):
    TxnId: Key = None
    TxnType: str | None = None


class PaymentLine(msgspec.Struct, gc=False):
    Amount: Decimal | None = None
    LinkedTxn: list[Linked] | None = None


class Email(msgspec.Struct, gc=False):
    Address: str | None = None


class Phone(msgspec.Struct, gc=False):
    FreeFormNumber: str | None = None


class Address(msgspec.Struct, gc=False):
    Line1: str | None = None
    Line2: str | None = None
    Line3: str | None = None
    Line4: str | None = None
    Line5: str | None = None
    City: str | None = None
    CountrySubDivisionCode: str | None = None
    PostalCode: str | None = None
    Country: str | None = None


class Record(msgspec.Struct, gc=False):
    """What every entity has; enough for a deletion and for keyset paging."""

    Id: Key = None
    status: str | None = None
    MetaData: Meta | None = None
    CurrencyRef: Ref | None = None


class Customer(Record):
    DisplayName: str | None = None
    CompanyName: str | None = None
    FullyQualifiedName: str | None = None
    PrimaryEmailAddr: Email | None = None
    PrimaryPhone: Phone | None = None
    BillAddr: Address | None = None
    Active: bool | None = True
    CustomerTypeRef: Ref | None = None


class Invoice(Record):
    DocNumber: Key = None
    CustomerRef: Ref | None = None
    TxnDate: str | None = None
    DueDate: str | None = None
    TotalAmt: Decimal | None = None
    Balance: Decimal | None = None
    PrivateNote: str | None = None
    SyncToken: Key = None
    lines: list[InvoiceLine] | None = msgspec.field(default=None, name="Line")
    InvoiceLink: str | None = None


class Payment(Record):
    CustomerRef: Ref | None = None
    TxnDate: str | None = None
    TotalAmt: Decimal | None = None
    UnappliedAmt: Decimal | None = None
    lines: list[PaymentLine] | None = msgspec.field(default=None, name="Line")


class CreditMemo(Record):
    CustomerRef: Ref | None = None
    TxnDate: str | None = None
    TotalAmt: Decimal | None = None
    Balance: Decimal | None = None


class Loose(msgspec.Struct):
    """Id and timestamp of a record whose shape is wrong: still needed to page past it."""

    Id: object = None
    MetaData: object = None


SHAPES: dict[str, type[Record]] = {
    "Customer": Customer,
    "Invoice": Invoice,
    "Payment": Payment,
    "CreditMemo": CreditMemo,
}


_S = TypeVar("_S", bound=Record)


def _first_float(value: Any, path: str) -> str | None:
    if isinstance(value, float):
        return path
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_float(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def shape_of(raw: Mapping[str, Any], shape: type[_S]) -> _S:
    """A dict as the Struct the mapper reads, or why it cannot be one."""
    where = _first_float(raw, "")
    if where is not None:
        # python-quickbooks parses floats unless use_decimal is on; refuse rather than guess.
        raise MappingError(f"{where} arrived as a float; the client must parse decimals")
    try:
        return msgspec.convert(raw, shape)
    except msgspec.ValidationError as exc:
        raise MappingError(f"unexpected shape ({exc})") from None
