"""Prepayments and overpayments: money received first, allocated to invoices later.

A customer pays a deposit before work starts (a prepayment) or pays more than an invoice
was for (an overpayment). Xero keeps the money as a credit against the contact until someone
allocates it to invoices; each allocation raises the invoice's ``AmountCredited`` ("Sum of
all credit notes, over-payments and pre-payments applied to invoice") and lowers its
``AmountDue``. ``GET /Prepayments`` and ``GET /Overpayments`` list them with their
``Allocations``; the invoice lists them under ``Prepayments`` / ``Overpayments``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import errors
from .dates import DateParseError, ms_date, ms_datetime, parse_if_modified_since
from .errors import Reply
from .models import Allocation, Prepaid
from .money import cents, json_number, text
from .organisation import API_USER, Organisation, OrgError
from .queries import paginate, select
from .render import contact_brief, envelope
from .where import Field

HEADS = {"prepayments": "prepayment", "overpayments": "overpayment"}
_TYPE = {"prepayment": "RECEIVE-PREPAYMENT", "overpayment": "RECEIVE-OVERPAYMENT"}
_ID = {"prepayment": "PrepaymentID", "overpayment": "OverpaymentID"}
_FIELDS: dict[str, Field] = {
    "PrepaymentID": Field("guid", lambda p: p.prepaid_id),
    "OverpaymentID": Field("guid", lambda p: p.prepaid_id),
    "Type": Field("string", lambda p: _TYPE[p.kind]),
    "Status": Field("string", lambda p: p.status),
    "Date": Field("date", lambda p: p.date),
    "Reference": Field("string", lambda p: p.reference),
    "UpdatedDateUTC": Field("datetime", lambda p: p.updated),
    "Contact.ContactID": Field("guid", lambda p: p.contact_id),
    "Total": Field("decimal", lambda p: p.total),
    "RemainingCredit": Field("decimal", lambda p: p.remaining_credit),
    "CurrencyCode": Field("string", lambda p: p.currency),
}


def receive(
    org: Organisation,
    kind: str,
    contact_id: str,
    amount: Decimal,
    on: date,
    *,
    reference: str = "",
    at: datetime | None = None,
    new_id: Callable[[], str] | None = None,
) -> Prepaid:
    """Record money received from a customer ahead of (or beyond) their invoices."""
    contact = org.contacts.get(contact_id.lower())
    if contact is None:
        raise OrgError(f"The contact with ContactID '{contact_id}' could not be found")
    if amount <= 0:
        raise OrgError("The amount must be greater than zero")
    stamp = at or org.touch()
    currency = contact.default_currency or org.region.currency
    item = Prepaid(
        prepaid_id=(new_id or org.new_id)(),
        kind=kind,
        contact_id=contact.contact_id,
        date=on,
        total=cents(amount),
        currency=currency,
        currency_rate=org.region.currency_rate(currency),
        updated=stamp,
        reference=reference,
    )
    org.prepaid[item.prepaid_id] = item
    return item


def allocate(
    org: Organisation, item: Prepaid, invoice_id: str, amount: Decimal, on: date,
    at: datetime | None = None, new_id: Callable[[], str] | None = None,
) -> Allocation:  # fmt: skip
    """Xero's rules: same contact and currency, an approved invoice, within both balances."""
    inv = org.find_invoice(invoice_id)
    amount = cents(amount)
    if inv.type != "ACCREC" or inv.contact_id != item.contact_id:
        raise OrgError("The invoice must be a sales invoice for the same contact")
    if inv.currency != item.currency:
        raise OrgError("The currency of the invoice does not match the currency of the credit")
    if inv.status != "AUTHORISED":
        raise OrgError("Allocations can only be made against Authorised invoices")
    if amount <= 0 or amount > item.remaining_credit or amount > inv.amount_due:
        raise OrgError("The amount allocated exceeds the amount outstanding or remaining")
    stamp = at or org.touch()
    alloc = Allocation((new_id or org.new_id)(), item.prepaid_id, inv.invoice_id, amount, on)
    item.allocations.append(alloc)
    inv.prepaid.append(alloc)
    org.settle(inv, stamp)
    org.add_history(
        inv, "Credit Applied", f"{item.kind.title()} of {text(amount)} applied.", API_USER, stamp
    )
    item.updated = stamp
    if item.remaining_credit <= 0:
        item.status = "PAID"
    return alloc


def prepaid_json(org: Organisation, item: Prepaid) -> dict[str, Any]:
    out: dict[str, Any] = {
        _ID[item.kind]: item.prepaid_id,
        "ID": item.prepaid_id,
        "Type": _TYPE[item.kind],
        "Reference": item.reference,
        "RemainingCredit": json_number(item.remaining_credit),
        "Allocations": [
            {
                "AllocationID": a.allocation_id,
                "Amount": json_number(a.amount),
                "Date": ms_date(a.date),
                "Invoice": {
                    "InvoiceID": a.invoice_id,
                    "InvoiceNumber": org.invoices[a.invoice_id].number,
                },
            }
            for a in item.allocations
        ],
        "Payments": [],
        "HasAttachments": False,
        "Contact": contact_brief(org.contacts[item.contact_id]),
        "Date": ms_date(item.date),
        "Status": item.status,
        "LineAmountTypes": "NoTax",
        "LineItems": [],
        "SubTotal": json_number(item.total),
        "TotalTax": 0,
        "Total": json_number(item.total),
        "UpdatedDateUTC": ms_datetime(item.updated),
        "CurrencyCode": item.currency,
        "CurrencyRate": json_number(item.currency_rate),
    }
    if item.kind == "prepayment":
        out["InvoiceNumber"] = item.reference
    return out


def list_prepaid(
    org: Organisation, head: str, params: Mapping[str, str], headers: Mapping[str, str],
    now: datetime,
) -> Reply:  # fmt: skip
    kind = HEADS[head]
    since = headers.get("if-modified-since")
    try:
        modified = parse_if_modified_since(since) if since else None
    except DateParseError:
        modified = None
    chosen = select(
        [p for p in org.prepaid.values() if p.kind == kind],
        _FIELDS,
        "Prepayment" if kind == "prepayment" else "Overpayment",
        where=params.get("where"),
        order=params.get("order"),
        modified_since=modified,
        updated=lambda p: p.updated,
        ident=lambda p: p.prepaid_id,
        shuffle=org.modes.shuffle_ties,
    )
    page = paginate(chosen, params.get("page"), params.get("pagesize"))
    items = [prepaid_json(org, p) for p in page.items]
    key = "Prepayments" if kind == "prepayment" else "Overpayments"
    return errors.json_reply(200, envelope(now, key, items, page.pagination))


def truth_rows(org: Organisation) -> list[dict[str, Any]]:
    return [
        {
            "id": p.prepaid_id,
            "kind": p.kind,
            "contact_id": p.contact_id,
            "status": p.status,
            "total": text(p.total),
            "remaining": text(p.remaining_credit),
            "allocations": [
                {"invoice_id": a.invoice_id, "amount": text(a.amount)} for a in p.allocations
            ],
        }
        for p in sorted(org.prepaid.values(), key=lambda p: p.prepaid_id)
    ]


def seed_prepaid(org: Organisation, seed: int, now: datetime) -> None:
    """Deposits and overpayments a real ledger has: two deposits taken before work began and
    allocated to the invoice that followed, an overpayment partly allocated to the customer's
    next invoice, and a deposit not yet allocated to anything."""
    rng = random.Random(f"xero-sandbox-prepaid:{seed}")  # noqa: S311 - test data

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    open_ = sorted(
        (i for i in org.invoices.values()
         if i.type == "ACCREC" and i.status == "AUTHORISED" and i.amount_due == i.total
         and i.total > 0 and org.contacts[i.contact_id].status == "ACTIVE"),
        key=lambda i: i.number,
    )  # fmt: skip
    if len(open_) < 4:
        return
    picks = rng.sample(open_, 4)
    for n, inv in enumerate(picks):
        when = datetime.combine(inv.date, datetime.min.time(), tzinfo=now.tzinfo)
        at = min(now - timedelta(minutes=5), max(inv.updated, when) + timedelta(hours=3 + n))
        if n < 2:
            deposit = cents(inv.total * Decimal(rng.choice((30, 40, 50))) / 100)
            item = receive(org, "prepayment", inv.contact_id, deposit, inv.date,
                           reference=f"Deposit {inv.number}", at=at, new_id=uid)  # fmt: skip
            allocate(org, item, inv.invoice_id, deposit, inv.date, at, new_id=uid)
        elif n == 2:
            extra = cents(inv.total * Decimal("1.25"))
            item = receive(org, "overpayment", inv.contact_id, extra, inv.date, at=at, new_id=uid)
            allocate(org, item, inv.invoice_id, cents(inv.total / 2), inv.date, at, new_id=uid)
        else:
            receive(org, "prepayment", inv.contact_id, Decimal("500.00"), inv.date,
                    reference="Retainer deposit", at=at, new_id=uid)  # fmt: skip
        inv.updated = max(inv.updated, at)
