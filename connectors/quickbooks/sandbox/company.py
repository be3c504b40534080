"""In-memory state of one QBO company and the business rules that keep it consistent.

Entities are stored in their wire shape (dicts in QBO's key order, amounts as ``Decimal``) because
QBO's update semantics are defined on that shape: a full update nulls omitted writable fields, a
sparse update touches only the keys sent, and ``Line`` is replaced as a whole. Derived values
(TotalAmt, Balance, UnappliedAmt, customer Balance, invoice LinkedTxn) are recomputed after every
write, and - as recorded QBO data shows - a payment applied to an invoice bumps the invoice's
SyncToken and LastUpdatedTime, and a change of a customer's balance bumps the customer's
LastUpdatedTime (but not its SyncToken).

Every public method takes the company lock; an optional ``at`` lets the seed generator replay
eighteen months of history through the same rules the API uses.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from . import faults, taxlines
from .balances import CustomerBalances
from .balances import share as balance_share
from .catalog import (
    COMPANY_DEFAULT_DUE_DAYS,
    CURRENCIES,
    DEFAULT_ITEM_ID,
    DEPOSIT_ACCOUNT_ID,
    EXCHANGE_RATES,
    ITEMS,
    TERMS,
)
from .clock import SandboxClock
from .fastquery import answer
from .jsontree import copy_json
from .lists import active_tax_codes
from .money import ZERO, MoneyError, decimal_string, dumps, money, quantity
from .query import Query, Result, execute
from .readindex import RowIndex, TrackedRows
from .unkind import Unkindness
from .wire import entity_time, envelope_time, local_date, parse_date, parse_datetime

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


class Company:
    """One realm's books. All state changes go through methods holding ``self.lock``."""

    def __init__(
        self,
        *,
        realm_id: str,
        clock: SandboxClock,
        tz: tzinfo,
        home_currency: str = "USD",
        user_id: str = "9130357766900000",
        country: str = "US",
    ) -> None:
        self.realm_id = realm_id
        #: ISO country of the company: non-US companies require a TaxCodeRef on every line.
        self.country = country
        self.last_tax_detail: JSON = {"TotalTax": ZERO}
        #: Books closed up to and including this date (Settings > Advanced > Accounting).
        self.closing_date: date | None = None
        #: Account and settings > Advanced > Automatically apply credits (on for new companies).
        self.auto_apply_credit = True
        #: Undocumented behaviours and which way they go (see unkind.py).
        self.unkind = Unkindness()
        self.clock = clock
        self.tz = tz
        self.home_currency = home_currency
        self.user_id = user_id
        self.lock = threading.RLock()
        #: Change-ordered view of each entity for queries and CDC (see readindex.py).
        self.read_index = {name: RowIndex(tz) for name in ENTITIES}
        self.entities: dict[str, dict[str, JSON]] = {
            name: TrackedRows(self.read_index[name].mark) for name in ENTITIES
        }
        self.tombstones: dict[tuple[str, str], Tombstone] = {}
        self.voided: dict[str, datetime] = {}
        # target transaction id -> {payment id: amount applied}
        self.applied: dict[str, dict[str, Decimal]] = {}
        # payment id -> transaction ids its lines point at (reverse of ``applied``)
        self.payment_targets: dict[str, list[str]] = {}
        # customer id -> {transaction id: entity}
        self.customer_txns: dict[str, dict[str, str]] = {}
        self.balances = CustomerBalances()
        self.names: dict[str, str] = {}
        self.next_txn_id = 1
        self.next_customer_id = 1
        self.next_doc_number = 1001
        self.journal: dict[str, list[JSON]] = {
            "notes": [],
            "emails": [],
            "lines_added": [],
            "invoices_created": [],
        }

    # ------------------------------------------------------------------ helpers

    def now(self) -> datetime:
        return self.clock.now()

    def time(self) -> str:
        return envelope_time(self.now(), self.tz)

    def _stamp(self, at: datetime | None) -> datetime:
        return at if at is not None else self.clock.now()

    def _new_txn_id(self) -> str:
        value = str(self.next_txn_id)
        self.next_txn_id += 1
        return value

    def _new_doc_number(self) -> str:
        value = str(self.next_doc_number)
        self.next_doc_number += 1
        return value

    def _currency_ref(self, code: str) -> JSON:
        return {"value": code, "name": CURRENCIES.get(code, code)}

    def _customer(self, customer_id: str, element: str = "CustomerRef") -> JSON:
        customer = self.entities["Customer"].get(customer_id)
        if customer is None:
            raise faults.invalid_reference(
                f"Customer assigned to this transaction: {customer_id}", element
            )
        return customer

    def get(self, entity: str, entity_id: str) -> JSON:
        found = self.entities[entity].get(str(entity_id))
        if found is None:
            raise faults.not_found(entity, str(entity_id))
        return found

    def _check_closing_date(self, txn_date: str) -> None:
        """Books closed: API edits of a transaction dated on or before the closing date are
        refused (the owner can still edit through the control API, as with the password)."""
        if self.closing_date is not None and parse_date(txn_date) <= self.closing_date:
            raise faults.business_validation(
                f"The transaction is dated on or before the closing date "
                f"({self.closing_date.isoformat()}); the books are closed for that period.",
                "TxnDate",
            )

    def _check_token(self, entity: str, current: JSON, body: JSON) -> None:
        sent = _sync_token(body.get("SyncToken"))
        if sent != current["SyncToken"]:
            raise faults.stale_object(entity, current["Id"], sent, current["SyncToken"])

    def touch(self, entity: str, entity_id: str) -> None:
        """A stored row was changed in place: forget what the read index knows about it."""
        self.read_index[entity].mark(entity_id)

    def _bump(self, payload: JSON, at: datetime, *, by_user: bool = True) -> None:
        customer_ref = payload.get("CustomerRef")
        if customer_ref is not None:
            self.balances.touch(customer_ref["value"], payload["Id"])
        for index in self.read_index.values():
            index.mark(payload["Id"])
        payload["SyncToken"] = str(int(payload["SyncToken"]) + 1)
        meta = payload["MetaData"]
        meta["LastUpdatedTime"] = entity_time(at, self.tz)
        if by_user and "LastModifiedByRef" in meta:
            meta["LastModifiedByRef"] = {"value": self.user_id}

    def _meta(self, at: datetime, *, modified_by: bool) -> JSON:
        stamp = entity_time(at, self.tz)
        meta: JSON = {"CreateTime": stamp}
        if modified_by:
            meta["LastModifiedByRef"] = {"value": self.user_id}
        meta["LastUpdatedTime"] = stamp
        return meta

    def _link_customer(self, customer_id: str, txn_id: str, entity: str) -> None:
        self.customer_txns.setdefault(customer_id, {})[txn_id] = entity
        self.balances.touch(customer_id, txn_id)

    def _unlink_customer(self, customer_id: str, txn_id: str) -> None:
        self.customer_txns.get(customer_id, {}).pop(txn_id, None)
        self.balances.touch(customer_id, txn_id)

    # ------------------------------------------------------------------ derived values

    def _applied_total(self, txn_id: str) -> Decimal:
        return sum(self.applied.get(txn_id, {}).values(), ZERO)

    def _refresh_target(self, txn_id: str, at: datetime) -> None:
        """Recompute an invoice's or credit memo's balance after its payments changed."""
        if txn_id in self.entities["Invoice"]:
            invoice = self.entities["Invoice"][txn_id]
            balance = invoice["TotalAmt"] - self._applied_total(txn_id)
            links = [
                {"TxnId": pid, "TxnType": "Payment"}
                for pid in sorted(self.applied.get(txn_id, {}), key=int)
            ]
            other = [
                link for link in invoice.get("LinkedTxn", []) if link.get("TxnType") != "Payment"
            ]
            new_links = other + links
            if balance != invoice["Balance"] or new_links != invoice.get("LinkedTxn"):
                invoice["Balance"] = balance
                invoice["LinkedTxn"] = new_links
                self._home_amounts(invoice)
                self._bump(invoice, at, by_user=False)
        elif txn_id in self.entities["CreditMemo"]:
            memo = self.entities["CreditMemo"][txn_id]
            remaining = memo["TotalAmt"] - self._applied_total(txn_id)
            if remaining != memo["Balance"]:
                memo["Balance"] = remaining
                memo["RemainingCredit"] = remaining
                self._home_amounts(memo)
                self._bump(memo, at, by_user=False)

    def _home_amounts(self, payload: JSON) -> None:
        rate = payload.get("ExchangeRate")
        if rate is None:
            return
        payload["HomeTotalAmt"] = money(payload["TotalAmt"] * rate)
        if "Balance" in payload:
            payload["HomeBalance"] = money(payload["Balance"] * rate)

    def customer_balance(self, customer_id: str) -> Decimal:
        """Open invoices and credit memos plus unapplied payments (see balances.py)."""
        return self.balances.balance(
            customer_id, self.customer_txns.get(customer_id, {}), self.entities
        )

    def customer_balance_rescan(self, customer_id: str) -> Decimal:
        """The same sum re-added from every transaction: the reference the tests check."""
        total = ZERO
        for txn_id, entity in self.customer_txns.get(customer_id, {}).items():
            payload = self.entities[entity].get(txn_id)
            if payload is not None:
                total += balance_share(entity, payload)
        return total

    def _refresh_customer(self, customer_id: str, at: datetime) -> None:
        customer = self.entities["Customer"].get(customer_id)
        if customer is None:
            return
        balance = self.customer_balance(customer_id)
        if balance != customer["Balance"]:
            self.touch("Customer", customer_id)
            customer["Balance"] = balance
            customer["BalanceWithJobs"] = balance
            customer["MetaData"]["LastUpdatedTime"] = entity_time(at, self.tz)

    # ------------------------------------------------------------------ lines

    def _item_line(self, raw: JSON, element: str = "Line") -> JSON:
        """A SalesItemLineDetail line as QBO stores it (without Id and LineNum)."""
        detail_in = raw.get("SalesItemLineDetail") or {}
        if not isinstance(detail_in, dict):
            raise faults.invalid_value("SalesItemLineDetail must be an object", element)
        item_id = (
            _ref_value(detail_in["ItemRef"], "ItemRef")
            if not _blank(detail_in.get("ItemRef"))
            else DEFAULT_ITEM_ID
        )
        item = ITEMS.get(item_id)
        if item is None:
            raise faults.invalid_reference(
                f"Item assigned to this transaction: {item_id}", "ItemRef"
            )
        qty = None if _blank(detail_in.get("Qty")) else quantity(detail_in["Qty"])
        unit = None if _blank(detail_in.get("UnitPrice")) else quantity(detail_in["UnitPrice"])
        if _blank(raw.get("Amount")):
            if qty is None or unit is None:
                raise faults.required_param(
                    "Required parameter Line.Amount is missing in the request",
                    "Line.Amount",
                )
            amount = money(qty * unit)
        else:
            amount = _amount(raw["Amount"], "Line.Amount")
        if qty and unit and money(qty * unit) != amount:
            raise faults.validation(
                "6070",
                "Amount is not equal to UnitPrice * Qty",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                "Line.Amount",
            )
        line: JSON = {}
        if not _blank(raw.get("Description")):
            line["Description"] = str(raw["Description"])
        line["Amount"] = amount
        if isinstance(raw.get("LinkedTxn"), list) and raw["LinkedTxn"]:
            line["LinkedTxn"] = copy_json(raw["LinkedTxn"])
        line["DetailType"] = "SalesItemLineDetail"
        detail: JSON = {"ItemRef": {"value": item.id, "name": item.name}}
        if unit is not None and unit != 0:
            detail["UnitPrice"] = unit
        if qty is not None and qty != 0:
            detail["Qty"] = qty
        detail["ItemAccountRef"] = {"value": item.account_id, "name": item.account_name}
        detail["TaxCodeRef"] = {"value": taxlines.tax_code(self, detail_in)}
        if not _blank(detail_in.get("ServiceDate")):
            detail["ServiceDate"] = str(detail_in["ServiceDate"])
        line["SalesItemLineDetail"] = detail
        line["CustomExtensions"] = []
        return line

    def _build_lines(
        self,
        raw_lines: Any,
        previous: list[JSON] | None,
        *,
        element: str = "Line",
        customer: JSON | None = None,
    ) -> tuple[list[JSON], Decimal, list[JSON]]:
        """Turn request lines into stored lines; returns (lines, total, newly added lines).

        The total is item lines less discounts plus tax; ``self.last_tax_detail`` holds the
        ``TxnTaxDetail`` that goes with it.
        """
        if not isinstance(raw_lines, list):
            raise faults.invalid_value("Line must be a list", element)
        old_by_id = {line["Id"]: line for line in previous or [] if "Id" in line}
        next_id = (
            max((int(i) for i in old_by_id if str(i).isdigit()), default=0) + 1 if old_by_id else 1
        )
        lines: list[JSON] = []
        added: list[JSON] = []
        subtotal = ZERO
        discount = ZERO
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise faults.invalid_value("Line entries must be objects", element)
            detail_type = raw.get("DetailType")
            if detail_type == "SubTotalLineDetail":
                continue  # recomputed below, as QBO does
            raw_id = raw.get("Id")
            line_id = str(raw_id) if not _blank(raw_id) and str(raw_id) in old_by_id else None
            if line_id is None:
                line_id = str(next_id)
                next_id += 1
                is_new = True
            else:
                is_new = False
            line: JSON = {"Id": line_id, "LineNum": len(lines) + 1}
            if detail_type == "SalesItemLineDetail":
                line.update(self._item_line(raw, element))
                subtotal += line["Amount"]
            elif detail_type == "GroupLineDetail":
                subtotal += taxlines.group_line(self, raw, line, self._item_line)
            elif detail_type == "DiscountLineDetail":
                discount += taxlines.discount_line(raw, line, subtotal - discount)
            elif detail_type in ("DescriptionOnly", "DescriptionLineDetail"):
                if not _blank(raw.get("Description")):
                    line["Description"] = str(raw["Description"])
                line["DetailType"] = "DescriptionOnly"
                line["DescriptionLineDetail"] = {}
            else:
                raise faults.invalid_value(
                    f"Line DetailType {detail_type!r} is not supported by the sandbox "
                    "(SalesItemLineDetail, GroupLineDetail, DiscountLineDetail, "
                    "DescriptionOnly, SubTotalLineDetail)",
                    "Line.DetailType",
                )
            lines.append(line)
            if is_new:
                added.append(line)
        if not any(
            line.get("DetailType") in ("SalesItemLineDetail", "GroupLineDetail") for line in lines
        ):
            raise faults.business_validation("You must fill out at least one split line.", "Line")
        lines.append(
            {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        self.last_tax_detail, tax = taxlines.tax_detail(self, lines, customer)
        return lines, subtotal - discount + tax, added

    # ------------------------------------------------------------------ customers

    def create_customer(self, body: JSON, *, at: datetime | None = None, v4id: str = "") -> JSON:
        with self.lock:
            when = self._stamp(at)
            name = body.get("DisplayName")
            if _blank(name):
                given = " ".join(
                    str(body.get(k) or "") for k in ("GivenName", "FamilyName")
                ).strip()
                name = given or body.get("CompanyName")
            if _blank(name):
                raise faults.required_param(
                    "Required parameter DisplayName is missing in the request", "DisplayName"
                )
            self._check_unique_name(str(name), None)
            currency = body.get("CurrencyRef")
            code = (
                _ref_value(currency, "CurrencyRef") if not _blank(currency) else self.home_currency
            )
            if code not in CURRENCIES:
                raise faults.invalid_reference(f"Currency {code}", "CurrencyRef")
            customer_id = str(self.next_customer_id)
            self.next_customer_id += 1
            payload: JSON = {
                "Taxable": bool(body.get("Taxable", False)),
                "Job": False,
                "BillWithParent": False,
                "Balance": ZERO,
                "BalanceWithJobs": ZERO,
                "CurrencyRef": self._currency_ref(code),
                "PreferredDeliveryMethod": body.get("PreferredDeliveryMethod") or "Print",
                "IsProject": False,
                "ClientEntityId": "0",
                "domain": "QBO",
                "sparse": False,
                "Id": customer_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=False),
                "FullyQualifiedName": str(name),
                "DisplayName": str(name),
                "Active": bool(body.get("Active", True)),
                "V4IDPseudonym": v4id or f"00209{int(customer_id):033x}",
            }
            for key in _CUSTOMER_WRITABLE:
                if not _blank(body.get(key)):
                    payload[key] = copy_json(body[key])
            if "SalesTermRef" in payload:
                payload["SalesTermRef"] = self._term_ref(payload["SalesTermRef"])
            payload.setdefault("PrintOnCheckName", payload.get("CompanyName") or str(name))
            self.entities["Customer"][customer_id] = _ordered("Customer", payload)
            self.names[str(name).strip().lower()] = customer_id
            return self.entities["Customer"][customer_id]

    def _check_unique_name(self, name: str, own_id: str | None) -> None:
        other = self.names.get(name.strip().lower())
        if other is not None and other != own_id:
            raise faults.validation(
                "6240",
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Another customer is already using "
                f"this name ({other}). Please use a different name.",
            )

    def update_customer(self, body: JSON, *, sparse: bool, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self.get("Customer", _ref_value(body.get("Id"), "Id"))
            self._check_token("Customer", current, body)
            when = self._stamp(at)
            new = _clone(current)
            keys = (
                [k for k in _CUSTOMER_WRITABLE if k in body] if sparse else list(_CUSTOMER_WRITABLE)
            )
            for key in keys:
                value = body.get(key)
                if _blank(value):
                    new.pop(key, None)
                elif key == "SalesTermRef":
                    new[key] = self._term_ref(value)
                else:
                    new[key] = copy_json(value)
            if "DisplayName" in body and not _blank(body["DisplayName"]):
                self._check_unique_name(str(body["DisplayName"]), current["Id"])
                self.names.pop(current["DisplayName"].strip().lower(), None)
                self.names[str(body["DisplayName"]).strip().lower()] = current["Id"]
                new["DisplayName"] = str(body["DisplayName"])
                new["FullyQualifiedName"] = new["DisplayName"]
            for flag in ("Active", "Taxable"):
                if flag in body and isinstance(body[flag], bool):
                    new[flag] = body[flag]
            if "PreferredDeliveryMethod" in body and not _blank(body["PreferredDeliveryMethod"]):
                new["PreferredDeliveryMethod"] = str(body["PreferredDeliveryMethod"])
            self._bump(new, when)
            self.entities["Customer"][current["Id"]] = _ordered("Customer", new)
            return self.entities["Customer"][current["Id"]]

    # ------------------------------------------------------------------ invoices & credit memos

    def _due_date(self, txn_date: str, term_id: str | None) -> str:
        days = TERMS[term_id].days if term_id in TERMS else COMPANY_DEFAULT_DUE_DAYS
        return _days_after(txn_date, days)

    def _term_ref(self, value: Any) -> JSON | None:
        if _blank(value):
            return None
        term_id = _ref_value(value, "SalesTermRef")
        term = TERMS.get(term_id)
        if term is None:
            raise faults.invalid_reference(f"Term {term_id}", "SalesTermRef")
        return {"value": term.id, "name": term.name}

    def _txn_date(self, value: Any, when: datetime, element: str = "TxnDate") -> str:
        if _blank(value):
            return local_date(when, self.tz)
        try:
            return _iso_date(str(value))
        except ValueError as exc:
            raise faults.invalid_value(f"{element} {value!r} is not a date", element) from exc

    def create_invoice(
        self, body: JSON, *, at: datetime | None = None, source: str = "api"
    ) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines, subtotal, _ = self._build_lines(body.get("Line"), None, customer=customer)
            tax_detail = self.last_tax_detail
            code = customer["CurrencyRef"]["value"]
            if (
                not _blank(body.get("CurrencyRef"))
                and _ref_value(body["CurrencyRef"], "CurrencyRef") != code
            ):
                raise faults.business_validation(
                    "The currency of the transaction must match the customer's currency.",
                    "CurrencyRef",
                )
            txn_date = self._txn_date(body.get("TxnDate"), when)
            term = self._term_ref(body.get("SalesTermRef"))
            due = (
                self._txn_date(body["DueDate"], when, "DueDate")
                if not _blank(body.get("DueDate"))
                else self._due_date(txn_date, term["value"] if term else None)
            )
            doc_number = (
                str(body["DocNumber"])
                if not _blank(body.get("DocNumber"))
                else self._new_doc_number()
            )
            invoice_id = self._new_txn_id()
            payload: JSON = {
                "domain": "QBO",
                "sparse": False,
                "Id": invoice_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=True),
                "CustomField": copy_json(body.get("CustomField") or []),
                "DocNumber": doc_number,
                "TxnDate": txn_date,
                "CurrencyRef": self._currency_ref(code),
                "LinkedTxn": [],
                "Line": lines,
                "TxnTaxDetail": tax_detail,
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "FreeFormAddress": True,
                "DueDate": due,
                "TotalAmt": subtotal,
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
                "Balance": subtotal,
            }
            for flag in _INVOICE_BOOLS:
                payload[flag] = bool(body.get(flag, flag == "FreeFormAddress"))
            if code != self.home_currency:
                payload["ExchangeRate"] = self.exchange_rate(code)
            if term is not None:
                payload["SalesTermRef"] = term
            # The API copies the customer's addresses but not its email (recorded sample).
            for key in ("BillAddr", "ShipAddr"):
                if not _blank(body.get(key)):
                    payload[key] = copy_json(body[key])
                elif key in customer:
                    payload[key] = copy_json(customer[key])
            self._apply_invoice_fields(payload, body, sparse=True, creating=True)
            self._home_amounts(payload)
            payload = _ordered("Invoice", payload)
            self.entities["Invoice"][invoice_id] = payload
            self._link_customer(customer["Id"], invoice_id, "Invoice")
            self._refresh_customer(customer["Id"], when)
            if source == "api":
                self.journal["invoices_created"].append(
                    {
                        "invoice_id": invoice_id,
                        "doc_number": doc_number,
                        "customer_id": customer["Id"],
                        "total": decimal_string(subtotal),
                        "at": entity_time(when, self.tz),
                    }
                )
            return payload

    def _apply_invoice_fields(
        self, payload: JSON, body: JSON, *, sparse: bool, creating: bool
    ) -> None:
        """Copy plain writable fields; a full update resets the omitted ones."""
        for key in _INVOICE_NULLABLE:
            if key in ("SalesTermRef", "BillAddr", "ShipAddr") and creating:
                continue
            if key in body or not sparse:
                value = body.get(key)
                if _blank(value):
                    payload.pop(key, None)
                elif key == "SalesTermRef":
                    payload[key] = self._term_ref(value)
                elif key in ("BillEmail", "BillEmailCc", "BillEmailBcc"):
                    address = value.get("Address") if isinstance(value, dict) else value
                    if _blank(address):
                        payload.pop(key, None)
                    else:
                        payload[key] = {"Address": str(address)}
                else:
                    payload[key] = copy_json(value)
        for key in _INVOICE_BOOLS:
            if key in body and isinstance(body[key], bool):
                payload[key] = body[key]
        for key, allowed in (("EmailStatus", _EMAIL_STATUSES), ("PrintStatus", _PRINT_STATUSES)):
            if key in body and not _blank(body[key]):
                if body[key] not in allowed:
                    raise faults.invalid_value(f"{key} {body[key]!r} is not valid", key)
                payload[key] = body[key]
        if "CustomField" in body and isinstance(body["CustomField"], list):
            payload["CustomField"] = copy_json(body["CustomField"])

    def update_invoice(
        self, body: JSON, *, sparse: bool, at: datetime | None = None, source: str = "api"
    ) -> JSON:
        with self.lock:
            current = self.get("Invoice", _ref_value(body.get("Id"), "Id"))
            self._check_token("Invoice", current, body)
            if source == "api":
                self._check_closing_date(current["TxnDate"])
            when = self._stamp(at)
            new = _clone(current)
            invoice_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            if not _blank(body.get("CustomerRef")):
                wanted = _ref_value(body["CustomerRef"], "CustomerRef")
                if wanted != customer_id:
                    if self.applied.get(invoice_id):
                        raise faults.business_validation(
                            "You can't change the customer of an invoice with payments applied.",
                            "CustomerRef",
                        )
                    customer = self._customer(wanted)
                    if customer["CurrencyRef"] != current["CurrencyRef"]:
                        raise faults.business_validation(
                            "The currency of the transaction must match the customer's currency.",
                            "CustomerRef",
                        )
                    new["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
            added: list[JSON] = []
            if "Line" in body and body["Line"] is not None:
                if invoice_id in self.voided:
                    raise faults.business_validation(
                        "A voided transaction can't be changed.", "Line"
                    )
                lines, subtotal, added = self._build_lines(
                    body["Line"],
                    current["Line"],
                    customer=self.entities["Customer"].get(customer_id),
                )
                new["TxnTaxDetail"] = self.last_tax_detail
                applied = self._applied_total(invoice_id)
                if subtotal < applied:
                    raise faults.business_validation(
                        "The transaction total can't be less than the payments applied to it.",
                        "Line",
                    )
                new["Line"] = lines
                new["TotalAmt"] = subtotal
                new["Balance"] = subtotal - applied
            self._apply_invoice_fields(new, body, sparse=sparse, creating=False)
            if not _blank(body.get("TxnDate")):
                new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            if not _blank(body.get("DocNumber")):
                new["DocNumber"] = str(body["DocNumber"])
            if not _blank(body.get("DueDate")):
                new["DueDate"] = self._txn_date(body["DueDate"], when, "DueDate")
            elif not sparse or "SalesTermRef" in body or "TxnDate" in body:
                term = new.get("SalesTermRef")
                new["DueDate"] = self._due_date(new["TxnDate"], term["value"] if term else None)
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            if new["CustomerRef"]["value"] != customer_id:
                self._unlink_customer(customer_id, invoice_id)
                self._link_customer(new["CustomerRef"]["value"], invoice_id, "Invoice")
                self._refresh_customer(customer_id, when)
            self._refresh_customer(new["CustomerRef"]["value"], when)
            if source == "api":
                self._journal_note("Invoice", current, new, when)
                for line in added:
                    self.journal["lines_added"].append(
                        {
                            "invoice_id": invoice_id,
                            "line_id": line["Id"],
                            "description": line.get("Description"),
                            "amount": decimal_string(line.get("Amount", ZERO)),
                            "item_id": line.get("SalesItemLineDetail", {})
                            .get("ItemRef", {})
                            .get("value"),
                            "at": entity_time(when, self.tz),
                        }
                    )
            return new

    def _journal_note(self, entity: str, before: JSON, after: JSON, when: datetime) -> None:
        if before.get("PrivateNote") != after.get("PrivateNote"):
            self.journal["notes"].append(
                {
                    "entity": entity,
                    "id": after["Id"],
                    "before": before.get("PrivateNote"),
                    "after": after.get("PrivateNote"),
                    "at": entity_time(when, self.tz),
                }
            )

    def _detach_payments(self, txn_id: str, when: datetime) -> list[str]:
        """Unapply every payment line that points at ``txn_id`` (void/delete of the target)."""
        touched: list[str] = []
        for payment_id in sorted(self.applied.get(txn_id, {}), key=int):
            payment = self.entities["Payment"].get(payment_id)
            if payment is None:
                continue
            payment["Line"] = [
                line for line in payment["Line"] if line["LinkedTxn"][0]["TxnId"] != txn_id
            ]
            self._recompute_payment(payment)
            self._bump(payment, when, by_user=False)
            touched.append(payment_id)
        self.applied.pop(txn_id, None)
        self._rebuild_applications_for(touched)
        return touched

    def _rebuild_applications_for(self, payment_ids: Iterable[str]) -> None:
        for payment_id in payment_ids:
            for target in self.payment_targets.pop(payment_id, []):
                self.applied.get(target, {}).pop(payment_id, None)
            payment = self.entities["Payment"].get(payment_id)
            if payment is None:
                continue
            targets: list[str] = []
            for line in payment["Line"]:
                target = line["LinkedTxn"][0]["TxnId"]
                bucket = self.applied.setdefault(target, {})
                bucket[payment_id] = bucket.get(payment_id, ZERO) + line["Amount"]
                targets.append(target)
            self.payment_targets[payment_id] = targets

    def void_invoice(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self.get("Invoice", _ref_value(body.get("Id"), "Id"))
            self._check_token("Invoice", current, body)
            when = self._stamp(at)
            invoice_id = current["Id"]
            detached = self._detach_payments(invoice_id, when)
            new = copy_json(current)
            for line in new["Line"]:
                line["Amount"] = ZERO
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict):
                    detail.pop("Qty", None)
                    detail.pop("UnitPrice", None)
                for inner in (line.get("GroupLineDetail") or {}).get("Line") or []:
                    inner["Amount"] = ZERO
            new["TxnTaxDetail"] = {"TotalTax": ZERO}
            new["TotalAmt"] = ZERO
            new["Balance"] = ZERO
            new["LinkedTxn"] = [
                link for link in new.get("LinkedTxn", []) if link.get("TxnType") != "Payment"
            ]
            note = current.get("PrivateNote")
            new["PrivateNote"] = f"{VOID_NOTE} - {note}" if note else VOID_NOTE
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            self.voided[invoice_id] = when
            customer_id = new["CustomerRef"]["value"]
            for payment_id in detached:
                self._refresh_customer(
                    self.entities["Payment"][payment_id]["CustomerRef"]["value"], when
                )
            self._refresh_customer(customer_id, when)
            return new

    def delete_transaction(self, entity: str, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            if entity == "Customer":
                raise faults.unsupported_operation(
                    "Delete on Customer (make it inactive with Active=false instead)"
                )
            current = self.get(entity, _ref_value(body.get("Id"), "Id"))
            self._check_token(entity, current, body)
            when = self._stamp(at)
            txn_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            touched_customers = [customer_id]
            if entity == "Payment":
                targets = [line["LinkedTxn"][0]["TxnId"] for line in current["Line"]]
                del self.entities["Payment"][txn_id]
                self._rebuild_applications_for([txn_id])
                for target in dict.fromkeys(targets):
                    self._refresh_target(target, when)
            else:
                for payment_id in self._detach_payments(txn_id, when):
                    touched_customers.append(
                        self.entities["Payment"][payment_id]["CustomerRef"]["value"]
                    )
                del self.entities[entity][txn_id]
            self._unlink_customer(customer_id, txn_id)
            tomb = Tombstone(entity, txn_id, when, current)
            self.tombstones[(entity, txn_id)] = tomb
            for cid in dict.fromkeys(touched_customers):
                self._refresh_customer(cid, when)
            return {"domain": "QBO", "status": "Deleted", "Id": txn_id}

    def send_invoice(
        self,
        invoice_id: str,
        send_to: str | None,
        *,
        at: datetime | None = None,
        source: str = "api",
    ) -> JSON:
        with self.lock:
            current = self.get("Invoice", invoice_id)
            when = self._stamp(at)
            if send_to is not None:
                addresses = [a.strip() for a in send_to.split(",") if a.strip()]
                if not addresses or not all(_EMAIL.match(a) for a in addresses):
                    raise faults.invalid_value(
                        f"sendTo {send_to!r} is not a valid email address", "sendTo"
                    )
                address = ", ".join(addresses)
            else:
                bill = current.get("BillEmail") or {}
                address = str(bill.get("Address") or "") if isinstance(bill, dict) else ""
                if not address:
                    raise faults.required_param(
                        "Invoice has no BillEmail.Address and no sendTo was given; "
                        "an email address is required to send it",
                        "BillEmail",
                    )
            new = _clone(current)
            new["BillEmail"] = {"Address": address}
            new["EmailStatus"] = "EmailSent"
            new["DeliveryInfo"] = {
                "DeliveryType": "Email",
                "DeliveryTime": entity_time(when, self.tz),
            }
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            if source == "api":
                self.journal["emails"].append(
                    {
                        "invoice_id": invoice_id,
                        "doc_number": new.get("DocNumber"),
                        "to": address,
                        "balance": decimal_string(new["Balance"]),
                        "at": entity_time(when, self.tz),
                    }
                )
            return new

    def create_credit_memo(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines, subtotal, _ = self._build_lines(body.get("Line"), None)
            code = customer["CurrencyRef"]["value"]
            memo_id = self._new_txn_id()
            payload: JSON = {
                "RemainingCredit": subtotal,
                "domain": "QBO",
                "sparse": False,
                "Id": memo_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=True),
                "CustomField": [],
                "DocNumber": str(body["DocNumber"])
                if not _blank(body.get("DocNumber"))
                else self._new_doc_number(),
                "TxnDate": self._txn_date(body.get("TxnDate"), when),
                "CurrencyRef": self._currency_ref(code),
                "Line": lines,
                "TxnTaxDetail": {"TotalTax": ZERO},
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "FreeFormAddress": True,
                "TotalAmt": subtotal,
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
                "Balance": subtotal,
            }
            if code != self.home_currency:
                payload["ExchangeRate"] = self.exchange_rate(code)
            if not _blank(body.get("PrivateNote")):
                payload["PrivateNote"] = str(body["PrivateNote"])
            if "BillAddr" in customer:
                payload["BillAddr"] = copy_json(customer["BillAddr"])
            if "PrimaryEmailAddr" in customer:
                payload["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
            self._home_amounts(payload)
            payload = _ordered("CreditMemo", payload)
            self.entities["CreditMemo"][memo_id] = payload
            self._link_customer(customer["Id"], memo_id, "CreditMemo")
            self._refresh_customer(customer["Id"], when)
            return payload

    def update_credit_memo(self, body: JSON, *, sparse: bool, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self.get("CreditMemo", _ref_value(body.get("Id"), "Id"))
            self._check_token("CreditMemo", current, body)
            when = self._stamp(at)
            new = _clone(current)
            if "Line" in body and body["Line"] is not None:
                lines, subtotal, _ = self._build_lines(body["Line"], current["Line"])
                applied = self._applied_total(current["Id"])
                if subtotal < applied:
                    raise faults.business_validation(
                        "The credit total can't be less than the credit already applied.", "Line"
                    )
                new["Line"] = lines
                new["TotalAmt"] = subtotal
                new["Balance"] = subtotal - applied
                new["RemainingCredit"] = new["Balance"]
            if "PrivateNote" in body or not sparse:
                if _blank(body.get("PrivateNote")):
                    new.pop("PrivateNote", None)
                else:
                    new["PrivateNote"] = str(body["PrivateNote"])
            if not _blank(body.get("TxnDate")):
                new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("CreditMemo", new)
            self.entities["CreditMemo"][current["Id"]] = new
            self._refresh_customer(new["CustomerRef"]["value"], when)
            return new

    # ------------------------------------------------------------------ payments

    def _recompute_payment(self, payment: JSON) -> None:
        applied = sum(
            (
                line["Amount"] if line["LinkedTxn"][0]["TxnType"] == "Invoice" else -line["Amount"]
                for line in payment["Line"]
            ),
            ZERO,
        )
        payment["UnappliedAmt"] = payment["TotalAmt"] - applied

    def _payment_lines(
        self, raw_lines: Any, customer_id: str, payment_id: str | None
    ) -> list[JSON]:
        if not isinstance(raw_lines, list):
            raise faults.invalid_value("Line must be a list", "Line")
        lines: list[JSON] = []
        seen: dict[str, Decimal] = {}
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise faults.invalid_value("Line entries must be objects", "Line")
            links = raw.get("LinkedTxn") or []
            if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
                raise faults.invalid_value(
                    "Each payment Line needs exactly one LinkedTxn", "Line.LinkedTxn"
                )
            target_id = _ref_value(links[0].get("TxnId"), "Line.LinkedTxn.TxnId")
            target_type = links[0].get("TxnType")
            if target_type not in ("Invoice", "CreditMemo"):
                raise faults.invalid_value(
                    f"LinkedTxn TxnType {target_type!r} is not supported (Invoice, CreditMemo)",
                    "Line.LinkedTxn.TxnType",
                )
            target = self.entities[target_type].get(target_id)
            if target is None:
                raise faults.invalid_reference(f"{target_type} {target_id}", "Line.LinkedTxn.TxnId")
            if target["CustomerRef"]["value"] != customer_id:
                raise faults.business_validation(
                    f"{target_type} {target_id} belongs to another customer.", "Line.LinkedTxn"
                )
            amount = _amount(raw.get("Amount"), "Line.Amount")
            if amount <= 0:
                raise faults.business_validation(
                    "A payment line amount must be positive.", "Line.Amount"
                )
            already = self._applied_total(target_id) - self.applied.get(target_id, {}).get(
                payment_id or "", ZERO
            )
            open_balance = target["TotalAmt"] - already
            seen[target_id] = seen.get(target_id, ZERO) + amount
            if seen[target_id] > open_balance:
                raise faults.business_validation(
                    f"The amount applied to {target_type} {target_id} ({seen[target_id]}) exceeds "
                    f"its open balance ({open_balance}).",
                    "Line.Amount",
                )
            lines.append(
                {
                    "Amount": amount,
                    "LinkedTxn": [{"TxnId": target_id, "TxnType": target_type}],
                    "LineEx": {
                        "any": [
                            _name_value("txnId", target_id),
                            _name_value("txnOpenBalance", decimal_string(open_balance)),
                            _name_value("txnReferenceNumber", str(target.get("DocNumber", ""))),
                        ]
                    },
                }
            )
        return lines

    def create_payment(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines = self._payment_lines(body.get("Line") or [], customer["Id"], None)
            applied = sum(
                (
                    line["Amount"]
                    if line["LinkedTxn"][0]["TxnType"] == "Invoice"
                    else -line["Amount"]
                    for line in lines
                ),
                ZERO,
            )
            total = (
                applied if _blank(body.get("TotalAmt")) else _amount(body["TotalAmt"], "TotalAmt")
            )
            if total < 0 or total < applied:
                raise faults.business_validation(
                    "The payment amount can't be less than the amount applied to transactions.",
                    "TotalAmt",
                )
            code = customer["CurrencyRef"]["value"]
            payment_id = self._new_txn_id()
            payload: JSON = {
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "DepositToAccountRef": copy_json(body.get("DepositToAccountRef"))
                or {"value": DEPOSIT_ACCOUNT_ID},
                "TotalAmt": total,
                "UnappliedAmt": total - applied,
                "ProcessPayment": False,
                "domain": "QBO",
                "sparse": False,
                "Id": payment_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=False),
                "TxnDate": self._txn_date(body.get("TxnDate"), when),
                "CurrencyRef": self._currency_ref(code),
                "Line": lines,
            }
            if code != self.home_currency:
                payload["ExchangeRate"] = self.exchange_rate(code)
            note = body.get("PrivateNote")
            if not _blank(note):
                payload["PrivateNote"] = str(note)
            for key in ("PaymentMethodRef", "PaymentRefNum"):
                if not _blank(body.get(key)):
                    payload[key] = copy_json(body[key])
            payload = _ordered("Payment", payload)
            self.entities["Payment"][payment_id] = payload
            self._link_customer(customer["Id"], payment_id, "Payment")
            self._rebuild_applications_for([payment_id])
            for target in dict.fromkeys(line["LinkedTxn"][0]["TxnId"] for line in lines):
                self._refresh_target(target, when)
            self._refresh_customer(customer["Id"], when)
            return payload

    def update_payment(
        self, body: JSON, *, sparse: bool, void: bool = False, at: datetime | None = None
    ) -> JSON:
        with self.lock:
            current = self.get("Payment", _ref_value(body.get("Id"), "Id"))
            self._check_token("Payment", current, body)
            when = self._stamp(at)
            payment_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            new = copy_json(current)
            old_targets = [line["LinkedTxn"][0]["TxnId"] for line in current["Line"]]
            if void:
                new["Line"] = []
                new["TotalAmt"] = ZERO
                note = current.get("PrivateNote")
                new["PrivateNote"] = f"{VOID_NOTE} - {note}" if note else VOID_NOTE
            else:
                if "Line" in body and body["Line"] is not None:
                    new["Line"] = self._payment_lines(body["Line"], customer_id, payment_id)
                if not _blank(body.get("TotalAmt")):
                    new["TotalAmt"] = _amount(body["TotalAmt"], "TotalAmt")
                if "PrivateNote" in body or not sparse:
                    if _blank(body.get("PrivateNote")):
                        new.pop("PrivateNote", None)
                    else:
                        new["PrivateNote"] = str(body["PrivateNote"])
                for key in ("PaymentMethodRef", "PaymentRefNum"):
                    if key in body or not sparse:
                        if _blank(body.get(key)):
                            new.pop(key, None)
                        else:
                            new[key] = copy_json(body[key])
                if not _blank(body.get("TxnDate")):
                    new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            self._recompute_payment(new)
            if new["UnappliedAmt"] < 0:
                raise faults.business_validation(
                    "The payment amount can't be less than the amount applied to transactions.",
                    "TotalAmt",
                )
            self._bump(new, when)
            new = _ordered("Payment", new)
            self.entities["Payment"][payment_id] = new
            self._rebuild_applications_for([payment_id])
            new_targets = [line["LinkedTxn"][0]["TxnId"] for line in new["Line"]]
            for target in dict.fromkeys(old_targets + new_targets):
                self._refresh_target(target, when)
            self._refresh_customer(customer_id, when)
            self._journal_note("Payment", current, new, when)
            return new

    # ------------------------------------------------------------------ reads

    def live_rows(self, entity: str) -> list[JSON]:
        return list(self.entities[entity].values())

    def _select(self, query: Query) -> Result:
        rows = self.entities[query.entity]
        if self.unkind.shuffle_ties:
            return execute(query, rows.values(), self.tz, self.unkind.shuffle)
        index = self.read_index.get(query.entity)
        found = answer(query, rows, index) if index is not None else None
        return found if found is not None else execute(query, rows.values(), self.tz)

    def query_response(self, query: Query) -> bytes:
        """The query's answer as wire bytes: ``dumps(run_query(query))``, with each row's
        encoding taken from the read index's cache."""
        with self.lock:
            index = self.read_index.get(query.entity)
            if index is None or query.count or query.projection is not None:
                return dumps(self.run_query(query)).encode("utf-8")
            result = self._select(query)
            if not result.rows:
                return dumps(self._query_body(query, result)).encode("utf-8")
            tail: JSON = {"startPosition": query.start_position, "maxResults": len(result.rows)}
            if query.entity == "Invoice":
                tail["totalCount"] = len(result.rows)
            return b"".join(
                (
                    b'{"QueryResponse":{',
                    dumps(query.entity).encode("utf-8"),
                    b":[",
                    b",".join(index.encoded(row) for row in result.rows),
                    b"],",
                    dumps(tail).encode("utf-8")[1:],
                    b',"time":',
                    dumps(self.time()).encode("utf-8"),
                    b"}",
                )
            )

    def run_query(self, query: Query) -> JSON:
        with self.lock:
            return self._query_body(query, self._select(query))

    def _query_body(self, query: Query, result: Result) -> JSON:
        body: JSON = {}
        if query.count:
            body["totalCount"] = result.total
        elif result.rows:
            # No copy: the API serialises the answer before it releases the (re-entrant)
            # lock, so no write can change a row between here and the wire.
            body[query.entity] = result.rows
            body["startPosition"] = query.start_position
            body["maxResults"] = len(result.rows)
            # Recorded samples carry totalCount on Invoice queries only.
            if query.entity == "Invoice":
                body["totalCount"] = len(result.rows)
        return {"QueryResponse": body, "time": self.time()}

    def changes_since(self, entities: list[str], since: datetime, cap: int) -> tuple[JSON, int]:
        """CDC: latest state of everything changed at or after ``since``, oldest change first.

        The cap applies to the whole response (the stricter reading of Intuit's docs); when it
        bites, the oldest changes are kept so a client can narrow the window and continue from
        the last LastUpdatedTime it received.
        """
        with self.lock:
            found: list[tuple[datetime, int, int, str, JSON]] = []
            for rank, entity in enumerate(entities):
                for payload in self._changed_rows(entity, since):
                    changed = parse_datetime(payload["MetaData"]["LastUpdatedTime"], self.tz)
                    if changed >= since:
                        found.append((changed, rank, int(payload["Id"]), entity, payload))
                for (tomb_entity, _), tomb in self.tombstones.items():
                    if tomb_entity == entity and tomb.deleted_at.replace(microsecond=0) >= since:
                        stub: JSON = {
                            "domain": "QBO",
                            "status": "Deleted",
                            "Id": tomb.id,
                            "MetaData": {"LastUpdatedTime": entity_time(tomb.deleted_at, self.tz)},
                        }
                        found.append(
                            (
                                tomb.deleted_at.replace(microsecond=0),
                                rank,
                                int(tomb.id),
                                entity,
                                stub,
                            )
                        )
            found.sort(key=lambda item: (item[0], item[1], item[2]))
            total = len(found)
            kept = self._cdc_keep(found, cap)
            grouped: dict[str, list[JSON]] = {entity: [] for entity in entities}
            for _, _, _, entity, payload in kept:
                # No copy: as for queries, the answer is serialised under the lock.
                grouped[entity].append(payload)
            responses: list[JSON] = []
            for entity in entities:
                rows = grouped[entity]
                if rows:
                    responses.append({entity: rows, "startPosition": 1, "maxResults": len(rows)})
                else:
                    responses.append({})
            return {"CDCResponse": [{"QueryResponse": responses}], "time": self.time()}, total

    def _changed_rows(self, entity: str, since: datetime) -> Iterable[JSON]:
        """Rows changed at or after ``since`` (a superset when the index cannot say)."""
        rows = self.entities[entity]
        index = self.read_index[entity]
        if not index.sync(rows):
            return rows.values()
        return [rows[row_id] for row_id in index.ids(index.span((since, True), None))]

    def exchange_rate(self, code: str) -> Decimal:
        """Units of home currency per unit of ``code`` (fixed rates, relative to USD)."""
        return (EXCHANGE_RATES[code] / EXCHANGE_RATES[self.home_currency]).quantize(
            Decimal("0.000001")
        )

    def default_tax_code(self) -> str:
        """The first active tax code: what seeded lines of a non-US company carry."""
        if self.country == "US":
            return "NON"
        codes = active_tax_codes(self.country)
        return next(iter(codes)) if codes else "NON"

    def _cdc_keep(self, found: list[Any], cap: int) -> list[Any]:
        """Which changes a capped CDC answer keeps: undocumented, so configurable."""
        if len(found) <= cap or self.unkind.cdc_keep == "oldest":
            return found[:cap]
        if self.unkind.cdc_keep == "newest":
            return found[-cap:]
        picked = set(self.unkind.sample(list(range(len(found))), cap))
        return [item for index, item in enumerate(found) if index in picked]

    # ------------------------------------------------------------------ truth

    def invoice_status(self, invoice_id: str) -> str:
        if invoice_id in self.voided:
            return "voided"
        invoice = self.entities["Invoice"].get(invoice_id)
        if invoice is None:
            return "deleted"
        return "paid" if invoice["Balance"] == 0 else "open"

    def truth(self) -> JSON:
        """Plain, exact view of the books for tests to compare a synced store against."""
        with self.lock:
            customers = [
                {
                    "id": c["Id"],
                    "display_name": c["DisplayName"],
                    "email": (c.get("PrimaryEmailAddr") or {}).get("Address"),
                    "active": c["Active"],
                    "currency": c["CurrencyRef"]["value"],
                    "balance": decimal_string(c["Balance"]),
                    "sync_token": c["SyncToken"],
                }
                for c in _by_id(self.entities["Customer"].values())
            ]
            invoices: list[JSON] = []
            rows = list(self.entities["Invoice"].values()) + [
                t.last for (e, _), t in self.tombstones.items() if e == "Invoice"
            ]
            for inv in _by_id(rows):
                status = self.invoice_status(inv["Id"])
                invoices.append(
                    {
                        "id": inv["Id"],
                        "doc_number": inv.get("DocNumber"),
                        "customer_id": inv["CustomerRef"]["value"],
                        "currency": inv["CurrencyRef"]["value"],
                        "txn_date": inv["TxnDate"],
                        "due_date": inv.get("DueDate"),
                        "total": decimal_string(inv["TotalAmt"]),
                        "balance": decimal_string(ZERO if status == "deleted" else inv["Balance"]),
                        "status": status,
                        "sync_token": inv["SyncToken"],
                        "email_status": inv.get("EmailStatus"),
                        "bill_email": (inv.get("BillEmail") or {}).get("Address"),
                        "private_note": inv.get("PrivateNote"),
                        "last_updated": inv["MetaData"]["LastUpdatedTime"],
                    }
                )
            payments = [
                {
                    "id": p["Id"],
                    "customer_id": p["CustomerRef"]["value"],
                    "currency": p["CurrencyRef"]["value"],
                    "txn_date": p["TxnDate"],
                    "total": decimal_string(p["TotalAmt"]),
                    "unapplied": decimal_string(p["UnappliedAmt"]),
                    "allocations": [
                        {
                            "txn_id": line["LinkedTxn"][0]["TxnId"],
                            "txn_type": line["LinkedTxn"][0]["TxnType"],
                            "amount": decimal_string(line["Amount"]),
                        }
                        for line in p["Line"]
                    ],
                }
                for p in _by_id(self.entities["Payment"].values())
            ]
            credit_memos = [
                {
                    "id": m["Id"],
                    "customer_id": m["CustomerRef"]["value"],
                    "total": decimal_string(m["TotalAmt"]),
                    "remaining": decimal_string(m["Balance"]),
                }
                for m in _by_id(self.entities["CreditMemo"].values())
            ]
            deleted = [
                {"entity": t.entity, "id": t.id, "at": entity_time(t.deleted_at, self.tz)}
                for t in sorted(self.tombstones.values(), key=lambda t: (t.entity, int(t.id)))
            ]
            return {
                "realm_id": self.realm_id,
                "now": entity_time(self.now(), self.tz),
                "home_currency": self.home_currency,
                "customers": customers,
                "invoices": invoices,
                "payments": payments,
                "credit_memos": credit_memos,
                "deleted": deleted,
            }

    def snapshot(self) -> JSON:
        """Every stored payload, for determinism checks and debugging."""
        with self.lock:
            return {
                "entities": {
                    entity: [rows[k] for k in sorted(rows, key=lambda k: (len(k), k))]
                    for entity, rows in self.entities.items()
                },
                "tombstones": [
                    {"entity": t.entity, "id": t.id, "at": t.deleted_at.isoformat(), "last": t.last}
                    for t in sorted(self.tombstones.values(), key=lambda t: (t.entity, int(t.id)))
                ],
                "voided": sorted(self.voided, key=int),
            }

    def journal_copy(self) -> JSON:
        with self.lock:
            journal: JSON = copy_json(self.journal)
            return journal


def _name_value(name: str, value: str) -> JSON:
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def _by_id(rows: Iterable[JSON]) -> list[JSON]:
    return sorted(rows, key=lambda row: int(row["Id"]))
