"""Payments and credit notes as their lists show them, written straight to JSON text.

As for invoices (:mod:`.render_text`): building each record's dicts and encoding them cost
the sandbox more than the client spends reading the page.  Each text must equal
``dumps(payment_json(org, p))`` / ``dumps(credit_note_json(org, n))`` byte for byte (the
tests compare every record of several organisations); anything unusual goes the dict way.
The memos of :mod:`.render_text` (amounts, short strings, days, embedded contacts, lines)
serve these too.
"""

from __future__ import annotations

from typing import Any

from .dates import EPOCH
from .errors import dumps
from .models import CreditNote, Invoice, Payment
from .money import cents
from .organisation import Organisation
from .render import BANK_ACCOUNT_CODE, account_id, credit_note_json, payment_json
from .render_text import _CONTACTS, _DATES, _MS, _MS_DATES, _N, _Q, _ds, _eb, _line, _Unusual

_ACCOUNT = (
    f'"Account":{{"AccountID":"{account_id(BANK_ACCOUNT_CODE)}","Code":"{BANK_ACCOUNT_CODE}"}}'
)
_EMPTY_APPLIED = '"Payments":[],"CreditNotes":[],"Prepayments":[],"Overpayments":[]'


def _bool(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _Unusual


def payment_text(org: Organisation, payment: Payment) -> bytes:
    """``dumps(payment_json(org, payment))``, without the dicts where it can."""
    try:
        return _payment(org, payment).encode("utf-8")
    except (_Unusual, TypeError):
        return dumps(payment_json(org, payment))


def credit_note_text(org: Organisation, note: CreditNote) -> bytes:
    """``dumps(credit_note_json(org, note))``, without the dicts where it can."""
    try:
        return _credit_note(org, note).encode("utf-8")
    except (_Unusual, TypeError):
        return dumps(credit_note_json(org, note))


def _embedded(org: Organisation, inv: Invoice) -> str:
    """:func:`.render._embedded_invoice` as text."""
    contact = org.contacts[inv.contact_id]
    return (
        f'{{"Type":{_Q[inv.type]},"InvoiceID":{_eb(inv.invoice_id)},'
        f'"InvoiceNumber":{_eb(inv.number)},{_EMPTY_APPLIED},"IsDiscounted":false,'
        '"InvoiceAddresses":[],"HasErrors":false,"InvoicePaymentServices":[]'
        f'{_CONTACTS[contact.contact_id, contact.name]},"LineItems":[],'
        f'"CurrencyCode":{_Q[inv.currency]}}}'
    )


def _payment(org: Organisation, payment: Payment) -> str:
    n = _N
    inv = org.invoices[payment.invoice_id]
    amount, rate = payment.amount, payment.currency_rate
    bank = cents(amount / rate) if rate else amount
    kind = "ACCRECPAYMENT" if inv.type == "ACCREC" else "ACCPAYPAYMENT"
    return (
        f'{{"PaymentID":{_eb(payment.payment_id)},"Date":{_MS_DATES[payment.date]},'
        f'"BankAmount":{n[_ds(bank)]},"Amount":{n[_ds(amount)]},'
        f'"Reference":{_eb(payment.reference)},"CurrencyRate":{n[_ds(rate)]},'
        f'"PaymentType":"{kind}","Status":{_Q[payment.status]},'
        f'"UpdatedDateUTC":"/Date({(payment.updated - EPOCH) // _MS}+0000)/","HasAccount":true,'
        f'"IsReconciled":{_bool(payment.is_reconciled)},{_ACCOUNT},'
        f'"Invoice":{_embedded(org, inv)},"HasValidationErrors":false}}'
    )


def _allocations(org: Organisation, note: CreditNote) -> str:
    out = []
    for alloc in note.allocations:
        inv = org.invoices[alloc.invoice_id]
        amount = alloc.amount
        out.append(
            f'{{"AllocationID":{_eb(alloc.allocation_id)},"Amount":{_N[_ds(amount)]},'
            f'"Date":{_MS_DATES[alloc.date]},"Invoice":{{"InvoiceID":{_eb(inv.invoice_id)},'
            f'"InvoiceNumber":{_eb(inv.number)},"Payments":[],"CreditNotes":[],"Prepayments":[],'
            '"Overpayments":[],"HasErrors":false,"IsDiscounted":false,"InvoiceAddresses":[],'
            '"InvoicePaymentServices":[],"LineItems":[]}}'
        )
    return ",".join(out)


def _credit_note(org: Organisation, note: CreditNote) -> str:
    n = _N
    contact = org.contacts[note.contact_id]
    remaining, rate = note.remaining_credit, note.currency_rate
    sub, tax, total = note.sub_total, note.total_tax, note.total
    dates = _DATES[note.date] if note.date is not None else ""
    fully = (
        f',"FullyPaidOnDate":{_MS_DATES[max(a.date for a in note.allocations)]}'
        if note.status == "PAID" and note.allocations
        else ""
    )
    return (
        f'{{"CreditNoteID":{_eb(note.credit_note_id)},"CreditNoteNumber":{_eb(note.number)},'
        f'"Type":{_Q[note.type]},"Reference":{_eb(note.reference)},"Payments":[],'
        f'"RemainingCredit":{n[_ds(remaining)]},'
        f'"Allocations":[{_allocations(org, note)}],"HasAttachments":false,"HasErrors":false'
        f'{_CONTACTS[contact.contact_id, contact.name]}{dates},"Status":{_Q[note.status]},'
        f'"LineAmountTypes":{_Q[note.line_amount_types]},'
        f'"LineItems":[{",".join(map(_line, note.line_items))}],'
        f'"SubTotal":{n[_ds(sub)]},"TotalTax":{n[_ds(tax)]},'
        f'"Total":{n[_ds(total)]},"UpdatedDateUTC":"/Date({(note.updated - EPOCH) // _MS}+0000)/",'
        f'"CurrencyCode":{_Q[note.currency]},"CurrencyRate":{n[_ds(rate)]}{fully}}}'
    )
