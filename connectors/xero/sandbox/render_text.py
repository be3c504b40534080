"""An invoice as a paged list shows it, written straight to JSON text.

A reader's first pass through 100,000 invoices has every record rendered once: building each
invoice's dicts (about 60 entries with its lines) and walking them again in the encoder cost
the sandbox more than twice the CPU the client spends reading the page. Here the text is
written directly, field by field in the order :func:`.render.invoice_json` puts them, and
must equal ``dumps(invoice_json(org, inv, "list"))`` byte for byte (the tests compare every
invoice of several organisations). Anything unusual (forced overrides, a value that is not
the type the model says) goes the dict way instead.
"""

from __future__ import annotations

from decimal import Decimal
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses
from typing import Any

from .dates import iso_date_string, ms_date, ms_datetime
from .errors import dumps, encode_text
from .models import Invoice, LineItem
from .money import ZERO
from .organisation import Organisation
from .render import (
    _credit_in_invoice,
    _payment_in_invoice,
    _prepaid_in_invoice,
    account_id,
    invoice_json,
    item_id,
)


class _Unusual(Exception):
    """A value the direct text does not cover: render through the dicts."""


def _q(value: Any) -> str:
    if value.__class__ is not str:
        raise _Unusual
    return str(encode_basestring(value))


def _n(value: Any) -> str:
    """:func:`.money.json_number`'s JSON text: ints without a fraction, others as floats."""
    if value.__class__ is not Decimal:
        raise _Unusual
    if value == value.to_integral_value():
        return repr(int(value))
    return repr(float(value))


def invoice_list_text(org: Organisation, inv: Invoice) -> bytes:
    """``dumps(invoice_json(org, inv, "list"))``, without the dicts where it can."""
    if inv.invoice_id in org.overrides:
        return dumps(invoice_json(org, inv, "list"))
    try:
        return _written(org, inv).encode("utf-8")
    except _Unusual:
        return dumps(invoice_json(org, inv, "list"))


def _applied(org: Organisation, inv: Invoice) -> str:
    live = [p for p in org.invoice_payments(inv) if p.status == "AUTHORISED"]
    payments = encode_text([_payment_in_invoice(p) for p in live]) if live else "[]"
    credits = (
        encode_text(
            [_credit_in_invoice(org.credit_notes[a.credit_note_id], a) for a in inv.allocations]
        )
        if inv.allocations
        else "[]"
    )
    if inv.prepaid:
        pre, over = _prepaid_in_invoice(org, inv)
        prepaid = f'"Prepayments":{encode_text(pre)},"Overpayments":{encode_text(over)}'
    else:
        prepaid = '"Prepayments":[],"Overpayments":[]'
    return f'"Payments":{payments},"CreditNotes":{credits},{prepaid}'


def _written(org: Organisation, inv: Invoice) -> str:
    contact = org.contacts[inv.contact_id]
    paid = inv.amount_paid if inv.status not in ("VOIDED", "DELETED") else ZERO
    parts = [
        f'{{"Type":{_q(inv.type)},"InvoiceID":{_q(inv.invoice_id)},'
        f'"InvoiceNumber":{_q(inv.number)},"Reference":{_q(inv.reference)},',
        _applied(org, inv),
        f',"AmountDue":{_n(inv.amount_due)},"AmountPaid":{_n(paid)},'
        f'"AmountCredited":{_n(inv.amount_credited)}',
    ]
    if inv.sent_to_contact:
        parts.append(',"SentToContact":true')
    if inv.currency_rate != 1:
        parts.append(f',"CurrencyRate":{_n(inv.currency_rate)}')
    parts.append(
        ',"IsDiscounted":false,"HasAttachments":false,"InvoiceAddresses":[],"HasErrors":false,'
        f'"InvoicePaymentServices":[],"Contact":{{"ContactID":{_q(contact.contact_id)},'
        f'"Name":{_q(contact.name)},"Addresses":[],"Phones":[],"ContactGroups":[],'
        '"ContactPersons":[],"HasValidationErrors":false}'
    )
    for key, day in (("Date", inv.date), ("DueDate", inv.due_date)):
        if day is not None:
            parts.append(f',"{key}String":{_q(iso_date_string(day))},"{key}":{_q(ms_date(day))}')
    if inv.expected_payment_date is not None:
        parts.append(f',"ExpectedPaymentDate":{_q(ms_date(inv.expected_payment_date))}')
    lines = ",".join([_line(ln) for ln in inv.line_items])
    parts.append(
        f',"Status":{_q(inv.status)},"LineAmountTypes":{_q(inv.line_amount_types)},'
        f'"LineItems":[{lines}],"SubTotal":{_n(inv.sub_total)},"TotalTax":{_n(inv.total_tax)},'
        f'"Total":{_n(inv.total)},"UpdatedDateUTC":{_q(ms_datetime(inv.updated))},'
        f'"CurrencyCode":{_q(inv.currency)}'
    )
    if inv.fully_paid_on is not None and inv.status == "PAID":
        parts.append(f',"FullyPaidOnDate":{_q(ms_date(inv.fully_paid_on))}')
    parts.append("}")
    return "".join(parts)


def _line(line: LineItem) -> str:
    """:func:`.render.line_json` (not full) as text."""
    code = line.item_code
    head = f'{{"ItemCode":{_q(code)},' if code else "{"
    item = (
        f'"Item":{{"ItemID":{_q(item_id(code))},"Name":{_q(line.description)},"Code":{_q(code)}}},'
        if code
        else ""
    )
    discount = f'"DiscountRate":{_n(line.discount_rate)},' if line.discount_rate else ""
    return (
        f'{head}"Description":{_q(line.description)},"UnitAmount":{_n(line.unit_amount)},'
        f'"TaxType":{_q(line.tax_type)},"TaxAmount":{_n(line.tax_amount)},'
        f'"LineAmount":{_n(line.line_amount)},"AccountCode":{_q(line.account_code)},'
        f'{item}"Tracking":[],"Quantity":{_n(line.quantity)},{discount}'
        f'"LineItemID":{_q(line.line_item_id)},"AccountID":{_q(account_id(line.account_code))}}}'
    )
