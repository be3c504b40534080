"""A settlement's credit: a CreditMemo applied to the invoice, exactly once.

QuickBooks' own UI applies a credit memo to an invoice in "Receive payment" with a zero
total: the invoice and the credit memo are both lines of one Payment (each ``Line`` with one
``LinkedTxn``), which is what syncd writes. When the company has "Automatically apply
credits" on (``Preferences.SalesFormsPrefs.AutoApplyCredit``), QuickBooks applies a new
credit memo itself to the customer's *oldest* open invoices; syncd then only creates the
memo, and refuses beforehand if the oldest open invoice is not the one being settled (the
credit would land on the wrong invoice). Every write carries a ``requestid`` and the memo's
``PrivateNote`` the ``[syncd:KEY]`` tag, so a replay finds the memo instead of writing a
second one, and links it only if nothing applied it yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.base import Credit, PermanentError
from connectors.kit import tag

from .settings import QuickBooksOptions

Query = Callable[[str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Books:
    """The connector's calls a credit goes through, each with its retries and error mapping."""

    read: Callable[[str, str], dict[str, Any] | None]
    query: Query
    post: Callable[[str, Mapping[str, Any], str], dict[str, Any]]
    #: Whether the company applies new credits itself (its AutoApplyCredit preference).
    auto_apply: Callable[[], bool]


def apply(
    books: Books, invoice_id: str, credit: Credit, key: str, options: QuickBooksOptions
) -> tuple[dict[str, Any], bool]:
    """The tagged memo (created unless an earlier attempt did), linked to the invoice unless
    something already applied it: ``(memo, whether this call wrote anything)``."""
    invoice = books.read("Invoice", invoice_id)
    if invoice is None:
        raise PermanentError(f"invoice {invoice_id} no longer exists")
    customer_id = str(invoice["CustomerRef"]["value"])
    memo = find_memo(books.query, customer_id, key)
    wrote = memo is None
    if memo is None:
        memo = _create_memo(books, invoice, customer_id, credit, key, options)
    remaining = Decimal(str(memo.get("Balance", "0")))
    if remaining > 0:
        invoice = books.read("Invoice", invoice_id) or invoice
        check(invoice, Credit(remaining, credit.currency, credit.reference), options.home_currency)
        link = link_body(invoice, memo, remaining, credit.on, key)
        books.post("Payment", link, f"{key}:link")
        wrote = True
    return memo, wrote


def _create_memo(
    books: Books,
    invoice: Mapping[str, Any],
    customer_id: str,
    credit: Credit,
    key: str,
    options: QuickBooksOptions,
) -> dict[str, Any]:
    if not options.settlement_item_id:
        raise PermanentError("options.settlement_item_id is not set for this org")
    check(invoice, credit, options.home_currency)
    if books.auto_apply():
        refuse_misapplied(books.query, invoice, customer_id)
    body = memo_body(invoice, credit, key, options.settlement_item_id, options.late_fee_tax_code_id)
    memo = books.post("CreditMemo", body, key)
    return books.read("CreditMemo", str(memo["Id"])) or memo


def _id(value: str) -> str:
    """QuickBooks ids are digits; anything else never reaches a query."""
    if not value.isdigit():
        raise PermanentError(f"unexpected QuickBooks customer id {value!r}")
    return value


def find_memo(query: Query, customer_id: str, key: str) -> dict[str, Any] | None:
    """The tagged credit memo of an earlier attempt, if there is one."""
    where = f"CustomerRef = '{_id(customer_id)}'"
    found = query(f"SELECT * FROM CreditMemo WHERE {where}")  # noqa: S608 - checked id
    for raw in found.get("CreditMemo") or []:
        if tag(key) in str(raw.get("PrivateNote") or ""):
            return dict(raw)
    return None


def check(invoice: Mapping[str, Any], credit: Credit, home_currency: str) -> None:
    currency = str((invoice.get("CurrencyRef") or {}).get("value") or home_currency)
    if currency != credit.currency:
        raise PermanentError(
            f"a credit in {credit.currency} cannot be applied to an invoice in {currency}"
        )
    balance = Decimal(str(invoice.get("Balance", "0")))
    if credit.amount > balance:
        raise PermanentError(
            f"the credit ({credit.amount}) exceeds the invoice's open balance ({balance})"
        )


def oldest_open(query: Query, customer_id: str) -> dict[str, Any] | None:
    where = f"CustomerRef = '{_id(customer_id)}' AND Balance > '0'"
    found = query(f"SELECT * FROM Invoice WHERE {where}")  # noqa: S608 - checked id
    rows = [dict(r) for r in found.get("Invoice") or []]
    rows.sort(key=lambda r: (str(r.get("TxnDate") or ""), int(str(r.get("Id") or "0") or 0)))
    return rows[0] if rows else None


def refuse_misapplied(query: Query, invoice: Mapping[str, Any], customer_id: str) -> None:
    oldest = oldest_open(query, customer_id)
    if oldest is not None and str(oldest.get("Id")) != str(invoice.get("Id")):
        number = oldest.get("DocNumber") or oldest.get("Id")
        raise PermanentError(
            "QuickBooks applies credits automatically to the customer's oldest open invoice "
            f"({number}), not this one: turn off Account and settings > Advanced > "
            "Automatically apply credits, or apply the credit by hand"
        )


def memo_body(
    invoice: Mapping[str, Any], credit: Credit, key: str, item_id: str, tax_code: str | None
) -> dict[str, Any]:
    number = invoice.get("DocNumber") or invoice.get("Id")
    detail: dict[str, Any] = {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": credit.amount}
    if tax_code:
        detail["TaxCodeRef"] = {"value": tax_code}
    body: dict[str, Any] = {
        "CustomerRef": invoice["CustomerRef"],
        "Line": [
            {
                "Amount": credit.amount,
                "Description": f"{credit.reference} (invoice {number})",
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": detail,
            }
        ],
        "PrivateNote": f"{credit.reference} (invoice {number}) {tag(key)}",
        "CustomerMemo": {"value": f"{credit.reference} (invoice {number})"},
    }
    if credit.on is not None:
        body["TxnDate"] = credit.on.isoformat()
    if invoice.get("CurrencyRef"):
        body["CurrencyRef"] = invoice["CurrencyRef"]
    return body


def link_body(
    invoice: Mapping[str, Any], memo: Mapping[str, Any], amount: Decimal, on: date | None, key: str
) -> dict[str, Any]:
    """The zero-total payment that applies the memo to the invoice."""
    body: dict[str, Any] = {
        "CustomerRef": invoice["CustomerRef"],
        "TotalAmt": Decimal(0),
        "PrivateNote": f"Credit memo {memo.get('DocNumber') or memo['Id']} applied {tag(key)}",
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]},
            {"Amount": amount, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]},
        ],
    }
    if on is not None:
        body["TxnDate"] = on.isoformat()
    if invoice.get("CurrencyRef"):
        body["CurrencyRef"] = invoice["CurrencyRef"]
    return body
