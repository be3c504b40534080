"""Wire shapes of the company's entities: key orders, field lists and the small value rules
(blank, refs, SyncToken, amounts) every write path applies in the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import faults
from .money import MoneyError, money
from .wire import parse_date

JSON = dict[str, Any]

ENTITIES = ("Customer", "Invoice", "Payment", "CreditMemo")
TXN_ENTITIES = ("Invoice", "Payment", "CreditMemo")
PATH_TO_ENTITY = {name.lower(): name for name in ENTITIES}

VOID_NOTE = "Voided"
CREDIT_LINK_NOTE = "Created by QB Online to link credits to charges."
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")

INVOICE_KEY_ORDER = (
    "AllowIPNPayment",
    "AllowOnlinePayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment",
    "InvoiceLink",
    "domain",
    "sparse",
    "Id",
    "SyncToken",
    "MetaData",
    "CustomField",
    "DocNumber",
    "TxnDate",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
    "LinkedTxn",
    "Line",
    "TxnTaxDetail",
    "CustomerRef",
    "CustomerMemo",
    "BillAddr",
    "ShipAddr",
    "FreeFormAddress",
    "ShipFromAddr",
    "SalesTermRef",
    "DueDate",
    "TotalAmt",
    "HomeTotalAmt",
    "ApplyTaxAfterDiscount",
    "PrintStatus",
    "EmailStatus",
    "BillEmail",
    "BillEmailCc",
    "BillEmailBcc",
    "Balance",
    "HomeBalance",
    "DeliveryInfo",
)
CREDIT_MEMO_KEY_ORDER = (
    "RemainingCredit",
    "domain",
    "sparse",
    "Id",
    "SyncToken",
    "MetaData",
    "CustomField",
    "DocNumber",
    "TxnDate",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
    "Line",
    "TxnTaxDetail",
    "CustomerRef",
    "CustomerMemo",
    "BillAddr",
    "ShipAddr",
    "FreeFormAddress",
    "TotalAmt",
    "HomeTotalAmt",
    "ApplyTaxAfterDiscount",
    "PrintStatus",
    "EmailStatus",
    "BillEmail",
    "Balance",
    "HomeBalance",
)
PAYMENT_KEY_ORDER = (
    "CustomerRef",
    "DepositToAccountRef",
    "TotalAmt",
    "UnappliedAmt",
    "ProcessPayment",
    "domain",
    "sparse",
    "Id",
    "SyncToken",
    "MetaData",
    "TxnDate",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
    "PaymentMethodRef",
    "PaymentRefNum",
    "Line",
)
CUSTOMER_KEY_ORDER = (
    "Taxable",
    "BillAddr",
    "ShipAddr",
    "Job",
    "BillWithParent",
    "Balance",
    "BalanceWithJobs",
    "CurrencyRef",
    "PreferredDeliveryMethod",
    "IsProject",
    "ClientEntityId",
    "domain",
    "sparse",
    "Id",
    "SyncToken",
    "MetaData",
    "GivenName",
    "FamilyName",
    "FullyQualifiedName",
    "CompanyName",
    "DisplayName",
    "PrintOnCheckName",
    "Active",
    "V4IDPseudonym",
    "PrimaryPhone",
    "PrimaryEmailAddr",
    "Notes",
    "SalesTermRef",
    "CustomerTypeRef",
)
KEY_ORDER = {
    "Invoice": INVOICE_KEY_ORDER,
    "CreditMemo": CREDIT_MEMO_KEY_ORDER,
    "Payment": PAYMENT_KEY_ORDER,
    "Customer": CUSTOMER_KEY_ORDER,
}

# Writable invoice fields a full update resets when omitted.
_INVOICE_NULLABLE = (
    "PrivateNote",
    "CustomerMemo",
    "BillEmail",
    "BillEmailCc",
    "BillEmailBcc",
    "BillAddr",
    "ShipAddr",
    "ShipFromAddr",
    "SalesTermRef",
    "ShipDate",
    "TrackingNum",
    "ClassRef",
    "DepartmentRef",
    "ShipMethodRef",
)
_INVOICE_BOOLS = (
    "AllowIPNPayment",
    "AllowOnlinePayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment",
    "ApplyTaxAfterDiscount",
    "FreeFormAddress",
)
_EMAIL_STATUSES = ("NotSet", "NeedToSend", "EmailSent")
_PRINT_STATUSES = ("NotSet", "NeedToPrint", "PrintComplete")
_CUSTOMER_WRITABLE = (
    "GivenName",
    "MiddleName",
    "FamilyName",
    "CompanyName",
    "PrimaryEmailAddr",
    "PrimaryPhone",
    "Mobile",
    "Fax",
    "WebAddr",
    "BillAddr",
    "ShipAddr",
    "Notes",
    "SalesTermRef",
    "PrintOnCheckName",
    "CustomerTypeRef",
)


@dataclass
class Tombstone:
    entity: str
    id: str
    deleted_at: datetime
    last: JSON


@dataclass(frozen=True)
class WriteResult:
    """A write's wire payload plus the entity name it is wrapped in."""

    entity: str
    payload: JSON


def _blank(value: Any) -> bool:
    """The SDK serialises unset fields as ``""``; QBO treats those as absent."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is dict:
        return not value
    if kind is Decimal or kind is int or kind is float or kind is bool:
        return False  # never equal to "" or {}
    return bool(value == "" or value == {})


def _ref_value(value: Any, element: str) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    if _blank(value):
        raise faults.required_param(
            f"Required parameter {element} is missing in the request", element
        )
    return str(value)


def _sync_token(value: Any) -> str:
    if _blank(value):
        raise faults.required_param(
            "Required parameter SyncToken is missing in the request", "SyncToken"
        )
    try:
        return str(int(str(value)))
    except ValueError as exc:
        raise faults.invalid_value(f"SyncToken {value!r} is not a number", "SyncToken") from exc


def _clone(payload: JSON) -> JSON:
    """Copy-on-write copy: top-level keys are replaced, never mutated, except MetaData."""
    out = dict(payload)
    out["MetaData"] = dict(payload["MetaData"])
    return out


#: (entity, the payload's keys in their order) -> the keys in wire order: QBO's order first,
#: then any others as they came. Payloads of one entity have few distinct key sets.
_WIRE_KEYS: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}


def _ordered(entity: str, payload: JSON) -> JSON:
    """The payload in QBO's key order, without ``None`` values."""
    present = tuple(payload)
    keys = _WIRE_KEYS.get((entity, present))
    if keys is None:
        order = KEY_ORDER[entity]
        known = set(order)
        keys = tuple(key for key in order if key in payload) + tuple(
            key for key in present if key not in known
        )
        if len(_WIRE_KEYS) < 4096:
            _WIRE_KEYS[(entity, present)] = keys
    if keys == present and None not in payload.values():
        # Already in wire order (a copy-on-write clone of a stored row usually is): every
        # caller stores the result in place of ``payload``, so no copy is needed.
        return payload
    return {key: payload[key] for key in keys if payload[key] is not None}


# Seeding dates a few hundred thousand documents on some five hundred distinct days: the
# date arithmetic is a pure function of its text, so it is done once per day.


@functools.lru_cache(maxsize=4096)
def _iso_date(text: str) -> str:
    return parse_date(text).isoformat()


@functools.lru_cache(maxsize=4096)
def _days_after(txn_date: str, days: int) -> str:
    return (parse_date(txn_date) + timedelta(days=days)).isoformat()


def _amount(value: Any, element: str) -> Decimal:
    try:
        return money(value)
    except MoneyError as exc:
        raise faults.invalid_value(f"{element}: {exc}", element) from exc


#: A NameValue element with its value to fill in: copied, a dict of seven keys is made at
#: about half the cost of building it key by key (three per payment line).
_NAME_VALUE: JSON = {
    "name": "{http://schema.intuit.com/finance/v3}NameValue",
    "declaredType": "com.intuit.schema.finance.v3.NameValue",
    "scope": "javax.xml.bind.JAXBElement$GlobalScope",
    "value": None,
    "nil": False,
    "globalScope": True,
    "typeSubstituted": False,
}


def _name_value(name: str, value: str) -> JSON:
    element = _NAME_VALUE.copy()
    element["value"] = {"Name": name, "Value": value}
    return element


def _by_id(rows: Iterable[JSON]) -> list[JSON]:
    return sorted(rows, key=lambda row: int(row["Id"]))
