"""Records to Xero's JSON, in the shapes the recorded responses show.

Xero does not send one fixed shape per entity: a paged list carries empty
``Payments``/``CreditNotes`` arrays and a brief embedded contact, a single GET
carries the full contact and omits empty collections, ``SentToContact`` only
appears in lists when true.  The ``mode`` argument selects between those.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from .dates import history_string, iso_date_string, ms_date, ms_datetime, ms_envelope
from .models import Allocation, Contact, CreditNote, HistoryRecord, Invoice, LineItem, Payment
from .money import ZERO, cents, json_number
from .organisation import Organisation
from .render_contact import contact_brief as contact_brief  # re-exported: the renderers' API
from .render_contact import contact_json as contact_json

InvoiceMode = Literal["list", "nolines", "summary", "full", "embedded"]

PROVIDER_NAME = "syncd Xero sandbox"
_NS = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
BANK_ACCOUNT_CODE = "090"


# A handful of codes, rendered on every line of every page: hash each once.
@functools.lru_cache(maxsize=4096)
def account_id(code: str) -> str:
    return str(uuid.uuid5(_NS, f"account:{code}"))


@functools.lru_cache(maxsize=4096)
def item_id(code: str) -> str:
    return str(uuid.uuid5(_NS, f"item:{code}"))


def envelope(
    now: datetime,
    key: str,
    items: list[dict[str, Any]],
    pagination: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": ms_envelope(now),
    }
    if pagination is not None:
        body["pagination"] = dict(pagination)
    body[key] = items
    return body


def _date_pair(out: dict[str, Any], key: str, day: date | None) -> None:
    if day is not None:
        out[f"{key}String"] = iso_date_string(day)
        out[key] = ms_date(day)


def line_json(line: LineItem, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if line.item_code:
        out["ItemCode"] = line.item_code
    out.update(
        {
            "Description": line.description,
            "UnitAmount": json_number(line.unit_amount),
            "TaxType": line.tax_type,
            "TaxAmount": json_number(line.tax_amount),
            "LineAmount": json_number(line.line_amount),
            "AccountCode": line.account_code,
        }
    )
    if line.item_code:
        out["Item"] = {
            "ItemID": item_id(line.item_code),
            "Name": line.description,
            "Code": line.item_code,
        }
    out["Tracking"] = []
    out["Quantity"] = json_number(line.quantity)
    if line.discount_rate:
        out["DiscountRate"] = json_number(line.discount_rate)
    out["LineItemID"] = line.line_item_id
    out["AccountID"] = account_id(line.account_code)
    if full:
        out["ValidationErrors"] = []
    return out


def receivable_balances(org: Organisation, today: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Per-contact AR outstanding/overdue in the home currency (Xero's Balances).

    One pass over every invoice per write (a contacts page needs it): the rate of each
    currency is found once, and a row other than an approved sale costs two reads only.
    """
    out: dict[str, tuple[Decimal, Decimal]] = {}
    rates: dict[str, Decimal] = {}
    for inv in org.invoices.values():
        if inv.status != "AUTHORISED" or inv.type != "ACCREC":
            continue
        rate = rates.get(inv.currency)
        if rate is None:
            rate = rates[inv.currency] = org.region.currency_rate(inv.currency)
        due = cents(inv.amount_due / rate)
        outstanding, overdue = out.get(inv.contact_id, (ZERO, ZERO))
        late = inv.due_date is not None and inv.due_date < today
        out[inv.contact_id] = (outstanding + due, overdue + (due if late else ZERO))
    return out


def _payment_in_invoice(payment: Payment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "PaymentID": payment.payment_id,
        "Date": ms_date(payment.date),
        "Amount": json_number(payment.amount),
        "Reference": payment.reference,
        "HasAccount": False,
        "HasValidationErrors": False,
    }
    if payment.currency_rate != 1:
        out["CurrencyRate"] = json_number(payment.currency_rate)
    return out


def _credit_in_invoice(note: CreditNote, alloc: Allocation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number,
        "ID": note.credit_note_id,
        "HasErrors": False,
        "InvoiceAddresses": [],
        "AppliedAmount": json_number(alloc.amount),
    }
    _date_pair(out, "Date", note.date)
    out["LineItems"] = []
    out["Total"] = json_number(note.total)
    return out


def _prepaid_in_invoice(
    org: Organisation, inv: Invoice
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The prepayments and overpayments allocated to ``inv``, as the invoice lists them."""
    pre: list[dict[str, Any]] = []
    over: list[dict[str, Any]] = []
    for alloc in inv.prepaid:
        item = org.prepaid[alloc.credit_note_id]
        key = "PrepaymentID" if item.kind == "prepayment" else "OverpaymentID"
        (pre if item.kind == "prepayment" else over).append(
            {
                key: item.prepaid_id,
                "ID": item.prepaid_id,
                "Date": ms_date(alloc.date),
                "AppliedAmount": json_number(alloc.amount),
                "Total": json_number(item.total),
            }
        )
    return pre, over


def invoice_json(org: Organisation, inv: Invoice, mode: InvoiceMode) -> dict[str, Any]:
    contact = org.contacts[inv.contact_id]
    if mode == "embedded":
        return _embedded_invoice(inv, contact)
    full = mode == "full"
    out: dict[str, Any] = {
        "Type": inv.type,
        "InvoiceID": inv.invoice_id,
        "InvoiceNumber": inv.number,
        "Reference": inv.reference,
    }
    _applied(org, inv, mode, out)
    _amounts(inv, full, out)
    out["InvoicePaymentServices"] = []
    out["Contact"] = contact_json(contact) if full else contact_brief(contact)
    _date_pair(out, "Date", inv.date)
    _date_pair(out, "DueDate", inv.due_date)
    if inv.expected_payment_date is not None:
        out["ExpectedPaymentDate"] = ms_date(inv.expected_payment_date)
    out["Status"] = inv.status
    out["LineAmountTypes"] = inv.line_amount_types
    if mode in ("list", "full"):
        out["LineItems"] = [line_json(ln, full=full) for ln in inv.line_items]
    out["SubTotal"] = json_number(inv.sub_total)
    out["TotalTax"] = json_number(inv.total_tax)
    out["Total"] = json_number(inv.total)
    out["UpdatedDateUTC"] = ms_datetime(inv.updated)
    out["CurrencyCode"] = inv.currency
    if inv.fully_paid_on is not None and inv.status == "PAID":
        out["FullyPaidOnDate"] = ms_date(inv.fully_paid_on)
    for key, value in org.overrides.get(inv.invoice_id, {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _embedded_invoice(inv: Invoice, contact: Contact) -> dict[str, Any]:
    """The brief invoice a payment carries."""
    return {
        "Type": inv.type,
        "InvoiceID": inv.invoice_id,
        "InvoiceNumber": inv.number,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "IsDiscounted": False,
        "InvoiceAddresses": [],
        "HasErrors": False,
        "InvoicePaymentServices": [],
        "Contact": contact_brief(contact),
        "LineItems": [],
        "CurrencyCode": inv.currency,
    }


def _applied(org: Organisation, inv: Invoice, mode: InvoiceMode, out: dict[str, Any]) -> None:
    """Payments, credit notes, prepayments and overpayments: lists carry them even when empty,
    a single GET only when not, a summary not at all."""
    live_payments = [p for p in org.invoice_payments(inv) if p.status == "AUTHORISED"]
    payments = [_payment_in_invoice(p) for p in live_payments]
    credits = [_credit_in_invoice(org.credit_notes[a.credit_note_id], a) for a in inv.allocations]
    if mode in ("list", "nolines"):
        out["Payments"] = payments
        out["CreditNotes"] = credits
    elif mode == "full":
        if payments:
            out["Payments"] = payments
        if credits:
            out["CreditNotes"] = credits
    if mode != "summary":
        out["Prepayments"], out["Overpayments"] = _prepaid_in_invoice(org, inv)


def _amounts(inv: Invoice, full: bool, out: dict[str, Any]) -> None:
    """The amounts and flags between the applied items and the contact."""
    out["AmountDue"] = json_number(inv.amount_due)
    out["AmountPaid"] = json_number(
        inv.amount_paid if inv.status not in ("VOIDED", "DELETED") else ZERO
    )
    if not full or inv.amount_credited > 0:
        out["AmountCredited"] = json_number(inv.amount_credited)
    if full:
        out["SentToContact"] = inv.sent_to_contact
    elif inv.sent_to_contact:
        out["SentToContact"] = True
    if full or inv.currency_rate != 1:
        out["CurrencyRate"] = json_number(inv.currency_rate)
    out["IsDiscounted"] = False
    out["HasAttachments"] = False
    if not full:
        out["InvoiceAddresses"] = []
    out["HasErrors"] = False
    if full:
        out["Attachments"] = []


def payment_json(org: Organisation, payment: Payment) -> dict[str, Any]:
    inv = org.invoices[payment.invoice_id]
    rate = payment.currency_rate
    out: dict[str, Any] = {
        "PaymentID": payment.payment_id,
        "Date": ms_date(payment.date),
        "BankAmount": json_number(cents(payment.amount / rate) if rate else payment.amount),
        "Amount": json_number(payment.amount),
        "Reference": payment.reference,
        "CurrencyRate": json_number(rate),
        "PaymentType": "ACCRECPAYMENT" if inv.type == "ACCREC" else "ACCPAYPAYMENT",
        "Status": payment.status,
        "UpdatedDateUTC": ms_datetime(payment.updated),
        "HasAccount": True,
        "IsReconciled": payment.is_reconciled,
        "Account": {"AccountID": account_id(BANK_ACCOUNT_CODE), "Code": BANK_ACCOUNT_CODE},
        "Invoice": invoice_json(org, inv, "embedded"),
        "HasValidationErrors": False,
    }
    return out


def credit_note_json(org: Organisation, note: CreditNote) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number,
        "Type": note.type,
        "Reference": note.reference,
        "Payments": [],
        "RemainingCredit": json_number(note.remaining_credit),
        "Allocations": [],
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contact_brief(org.contacts[note.contact_id]),
    }
    for alloc in note.allocations:
        inv = org.invoices[alloc.invoice_id]
        out["Allocations"].append(
            {
                "AllocationID": alloc.allocation_id,
                "Amount": json_number(alloc.amount),
                "Date": ms_date(alloc.date),
                "Invoice": {
                    "InvoiceID": inv.invoice_id,
                    "InvoiceNumber": inv.number,
                    "Payments": [],
                    "CreditNotes": [],
                    "Prepayments": [],
                    "Overpayments": [],
                    "HasErrors": False,
                    "IsDiscounted": False,
                    "InvoiceAddresses": [],
                    "InvoicePaymentServices": [],
                    "LineItems": [],
                },
            }
        )
    _date_pair(out, "Date", note.date)
    out["Status"] = note.status
    out["LineAmountTypes"] = note.line_amount_types
    out["LineItems"] = [line_json(ln, full=False) for ln in note.line_items]
    out["SubTotal"] = json_number(note.sub_total)
    out["TotalTax"] = json_number(note.total_tax)
    out["Total"] = json_number(note.total)
    out["UpdatedDateUTC"] = ms_datetime(note.updated)
    out["CurrencyCode"] = note.currency
    out["CurrencyRate"] = json_number(note.currency_rate)
    if note.status == "PAID" and note.allocations:
        out["FullyPaidOnDate"] = ms_date(max(a.date for a in note.allocations))
    return out


def history_json(record: HistoryRecord, *, created: bool = False) -> dict[str, Any]:
    if created:
        return {
            "DateUTCString": history_string(record.at),
            "DateUTC": ms_datetime(record.at),
            "Details": record.details,
            "ValidationErrors": [],
        }
    return {
        "Changes": record.changes,
        "DateUTCString": history_string(record.at),
        "DateUTC": ms_datetime(record.at),
        "User": record.user,
        "Details": record.details,
    }


def history_envelope(now: datetime, records: list[dict[str, Any]]) -> dict[str, Any]:
    return envelope(now, "HistoryRecords", records)


def connection_json(org: Organisation) -> dict[str, Any]:
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"

    return {
        "id": org.connection_id,
        "authEventId": str(uuid.uuid5(_NS, f"auth:{org.tenant_id}")),
        "tenantId": org.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": org.name,
        "createdDateUtc": stamp(org.connected_at),
        "updatedDateUtc": stamp(org.connected_at + timedelta(minutes=1)),
    }
