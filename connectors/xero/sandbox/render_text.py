"""An invoice as a paged list shows it, written straight to JSON text.

A reader's first pass through 100,000 invoices has every record rendered once: building each
invoice's dicts (about 60 entries with its lines) and walking them again in the encoder cost
the sandbox more than twice the CPU the client spends reading the page. Here the text is
written directly, field by field in the order :func:`.render.invoice_json` puts them, and
must equal ``dumps(invoice_json(org, inv, "list"))`` byte for byte (the tests compare every
invoice of several organisations). Anything unusual (forced overrides, a value that is not
the type the model says) goes the dict way instead.

The pieces that repeat from invoice to invoice are written once per distinct value and looked
up after that (:class:`_Memo`): amounts (a page has some 2,600 distinct ones in 16,000),
short strings (types, statuses, tax types, currencies), dates, a contact as embedded, a line's
catalogue part. They are keyed by value (an amount by its type too), never by record, so a
write cannot make one stale; each memo is bounded. Ids and other one-off strings are escaped
as they come.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses
from typing import Any

from .dates import EPOCH, iso_date_string, ms_date
from .errors import dumps, record_dumps
from .models import Invoice, LineItem, Payment
from .money import ZERO
from .organisation import Organisation
from .render import (
    _credit_in_invoice,
    _prepaid_in_invoice,
    account_id,
    invoice_json,
    item_id,
)

#: Entries a memo keeps at most (then it starts again): a few thousand amounts and days.
MEMO_SIZE = 20_000


class _Unusual(Exception):
    """A value the direct text does not cover: render through the dicts."""


class _Memo(dict[Hashable, Any]):
    """Text by value, written by ``make`` the first time a value is asked for."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Hashable) -> Any:
        text = self.make(key)
        if len(self) >= MEMO_SIZE:
            self.clear()
        self[key] = text
        return text


def _q(value: Any) -> str:
    if value.__class__ is not str:
        raise _Unusual
    return str(encode_basestring(value))


class _Numbers(dict[str, str]):
    """:func:`.money.json_number`'s JSON text by the Decimal's text: most amounts on a page
    are new, so a miss is written here, in one frame.

    Keyed by the Decimal's text (``_ds``, which refuses anything but a Decimal, so an int
    equal to an amount seen before is still unusual): hashing a Decimal costs five times as
    much as writing its text, and a page's amounts are new objects.  That text is
    ``to_eng_string``'s, which differs from ``str``'s only in where an exponent goes: either
    is the value's exact text, and what is written here depends on the value alone.  Most
    are written from that text alone: trailing zeros dropped (``repr(float)`` of a decimal of
    15 digits or fewer, between 1e-4 and 1e16, is that decimal's shortest text)."""

    def __missing__(self, key: str) -> str:
        if len(self) >= MEMO_SIZE:
            self.clear()
        text = None
        if len(key) <= 16 and key[-1].isdigit() and "E" not in key:
            if "." not in key:
                text = "0" if key == "-0" else key
            else:
                short = key.rstrip("0")
                if short[-1] == ".":
                    text = "0" if short == "-0." else short[:-1]
                elif not short.lstrip("-").startswith("0.0000"):
                    text = short
        if text is None:
            text = _exact_number(key)
        self[key] = text
        return text


def _number(key: str) -> str:
    """One amount's text, kept by no memo."""
    return _Numbers()[key]


def _exact_number(key: str) -> str:
    """What ``_n`` always wrote: ``repr`` of the int or float :func:`.money.json_number`
    gives (``nan`` for a NaN, as before)."""
    value = Decimal(key)
    if value == value.to_integral_value():
        return repr(int(value))
    return repr(float(value))


def _days(key: tuple[Any, Any]) -> str:
    """``Date`` and ``DueDate`` with their ``String`` copies, each if set."""
    day, due = key
    return (_day("Date", day) if day is not None else "") + (
        _day("DueDate", due) if due is not None else ""
    )


def _status(key: tuple[str, str]) -> str:
    status, line_amount_types = key
    return f',"Status":{_q(status)},"LineAmountTypes":{_q(line_amount_types)}'


def _day(name: str, day: Any) -> str:
    if day.__class__ is not date:
        raise _Unusual
    return f',"{name}String":{_q(iso_date_string(day))},"{name}":{_q(ms_date(day))}'


def _ms_day(day: Any) -> str:
    """A date alone, quoted (a payment's, an allocation's)."""
    if day.__class__ is not date:
        raise _Unusual
    return _q(ms_date(day))


def _contact(key: tuple[str, str]) -> str:
    contact_id, name = key
    return (
        f',"Contact":{{"ContactID":{_q(contact_id)},"Name":{_q(name)},"Addresses":[],'
        '"Phones":[],"ContactGroups":[],"ContactPersons":[],"HasValidationErrors":false}'
    )


def _line_parts(key: tuple[Any, ...]) -> tuple[str, str, str, str]:
    """A line's text around its amounts, quantity and id (:func:`.render.line_json`)."""
    code, description, tax_type, account = key
    head = f'{{"ItemCode":{_q(code)},' if code else "{"
    item = (
        f'"Item":{{"ItemID":{_q(item_id(code))},"Name":{_q(description)},"Code":{_q(code)}}},'
        if code
        else ""
    )
    return (
        f'{head}"Description":{_q(description)},"UnitAmount":',
        f',"TaxType":{_q(tax_type)},"TaxAmount":',
        f',"AccountCode":{_q(account)},{item}"Tracking":[],"Quantity":',
        f',"AccountID":{_q(account_id(account))}}}',
    )


_N = _Numbers()
_Q = _Memo(_q)
_DATES = _Memo(partial(_day, "Date"))
_MS_DATES = _Memo(_ms_day)
_DAY_PAIRS = _Memo(_days)
_STATUSES = _Memo(_status)
_CONTACTS = _Memo(_contact)
_LINES = _Memo(_line_parts)
MEMOS = (_N, _Q, _DATES, _MS_DATES, _DAY_PAIRS, _STATUSES, _CONTACTS, _LINES)
_eb = encode_basestring  # a non-str raises TypeError: the invoice goes the dict way
#: Likewise for a non-Decimal.  Not ``Decimal.__str__``: called through its slot wrapper that
#: costs twice as much, and a page of invoices writes some 16,000 amounts.
_ds = Decimal.to_eng_string
_MS = timedelta(milliseconds=1)  # UpdatedDateUTC as dates.ms_datetime writes it
_EMPTY_APPLIED = '"Payments":[],"CreditNotes":[],"Prepayments":[],"Overpayments":[]'


def forget() -> None:
    """Drop every memo (the benchmark's first serving measures them empty)."""
    for memo in MEMOS:
        memo.clear()


def invoice_list_text(org: Organisation, inv: Invoice) -> bytes:
    """``dumps(invoice_json(org, inv, "list"))``, without the dicts where it can."""
    if inv.invoice_id in org.overrides:
        return dumps(invoice_json(org, inv, "list"))
    try:
        return _written(org, inv).encode("utf-8")
    except (_Unusual, TypeError):
        return dumps(invoice_json(org, inv, "list"))


def _applied(org: Organisation, inv: Invoice) -> str:
    if not inv.payment_ids and not inv.allocations and not inv.prepaid:
        return _EMPTY_APPLIED
    table, ids = org.payments, inv.payment_ids
    if len(ids) == 1:  # the usual case: no list to build
        payment = table[ids[0]]
        payments = _payment_in(payment) if payment.status == "AUTHORISED" else ""
    else:
        live = [p for p in map(table.__getitem__, ids) if p.status == "AUTHORISED"]
        payments = ",".join(map(_payment_in, live))
    credits = (
        _encoded(
            [_credit_in_invoice(org.credit_notes[a.credit_note_id], a) for a in inv.allocations]
        )
        if inv.allocations
        else "[]"
    )
    if inv.prepaid:
        pre, over = _prepaid_in_invoice(org, inv)
        prepaid = f'"Prepayments":{_encoded(pre)},"Overpayments":{_encoded(over)}'
    else:
        prepaid = '"Prepayments":[],"Overpayments":[]'
    return f'"Payments":[{payments}],"CreditNotes":{credits},{prepaid}'


def _payment_in(p: Payment) -> str:
    """:func:`.render._payment_in_invoice` as text."""
    rate = p.currency_rate
    return (
        f'{{"PaymentID":{_eb(p.payment_id)},"Date":{_MS_DATES[p.date]},'
        f'"Amount":{_N[_ds(p.amount)]},"Reference":{_eb(p.reference)},'
        '"HasAccount":false,"HasValidationErrors":false'
        + ("}" if rate == 1 else f',"CurrencyRate":{_N[_ds(rate)]}}}')
    )


def _encoded(value: Any) -> str:
    return record_dumps(value).decode("utf-8")


def _written(org: Organisation, inv: Invoice) -> str:
    contact = org.contacts[inv.contact_id]
    n = _N
    paid = inv.amount_paid if inv.status not in ("VOIDED", "DELETED") else ZERO
    due, credited, rate = inv.amount_due, inv.amount_credited, inv.currency_rate
    sub, tax, total = inv.sub_total, inv.total_tax, inv.total
    optional = ',"SentToContact":true' if inv.sent_to_contact else ""
    if rate != 1:
        optional += f',"CurrencyRate":{n[_ds(rate)]}'
    dates = _DAY_PAIRS[inv.date, inv.due_date]
    if inv.expected_payment_date is not None:
        dates += f',"ExpectedPaymentDate":{_q(ms_date(inv.expected_payment_date))}'
    fully = (
        f',"FullyPaidOnDate":{_q(ms_date(inv.fully_paid_on))}'
        if inv.fully_paid_on is not None and inv.status == "PAID"
        else ""
    )
    return (
        f'{{"Type":{_Q[inv.type]},"InvoiceID":{_eb(inv.invoice_id)},'
        f'"InvoiceNumber":{_eb(inv.number)},"Reference":{_eb(inv.reference)},'
        f'{_applied(org, inv)},"AmountDue":{n[_ds(due)]},'
        f'"AmountPaid":{n[_ds(paid)]},'
        f'"AmountCredited":{n[_ds(credited)]}{optional},"IsDiscounted":false,'
        '"HasAttachments":false,"InvoiceAddresses":[],"HasErrors":false,'
        f'"InvoicePaymentServices":[]{_CONTACTS[contact.contact_id, contact.name]}{dates}'
        f"{_STATUSES[inv.status, inv.line_amount_types]},"
        f'"LineItems":[{",".join(map(_line, inv.line_items))}],'
        f'"SubTotal":{n[_ds(sub)]},"TotalTax":{n[_ds(tax)]},'
        f'"Total":{n[_ds(total)]},"UpdatedDateUTC":"/Date({(inv.updated - EPOCH) // _MS}+0000)/",'
        f'"CurrencyCode":{_Q[inv.currency]}{fully}}}'
    )


def _line(line: LineItem) -> str:
    """:func:`.render.line_json` (not full) as text: the catalogue's part looked up by value,
    each amount by its text.  (Not the whole line by all its values: a page's lines are
    mostly new combinations of amounts seen before, each written anew.)"""
    head, mid, tail, end = _LINES[
        line.item_code, line.description, line.tax_type, line.account_code
    ]
    n = _N
    discount = line.discount_rate
    rate = f'"DiscountRate":{n[_ds(discount)]},' if discount else ""
    return (
        f"{head}{n[_ds(line.unit_amount)]}{mid}{n[_ds(line.tax_amount)]},"
        f'"LineAmount":{n[_ds(line.line_amount)]}{tail}{n[_ds(line.quantity)]},{rate}'
        f'"LineItemID":{_eb(line.line_item_id)}{end}'
    )
