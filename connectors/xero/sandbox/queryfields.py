"""The fields ``where`` and ``order`` may name, per record type, and how each is read.

Names follow Xero's (``Contact.ContactID``, ``Invoice.InvoiceNumber``...); a field reads the
record, or a record it points to, through the organisation.
"""

from __future__ import annotations

from .models import Contact, Invoice, Payment
from .organisation import Organisation
from .where import Field


def invoice_fields(org: Organisation) -> dict[str, Field]:
    def contact(inv: Invoice) -> Contact:
        return org.contacts[inv.contact_id]

    return {
        "InvoiceID": Field("guid", lambda i: i.invoice_id),
        "InvoiceNumber": Field("string", lambda i: i.number),
        "Type": Field("string", lambda i: i.type),
        "Status": Field("string", lambda i: i.status),
        "Reference": Field("string", lambda i: i.reference),
        "Date": Field("date", lambda i: i.date),
        "DueDate": Field("date", lambda i: i.due_date),
        "FullyPaidOnDate": Field("date", lambda i: i.fully_paid_on),
        "UpdatedDateUTC": Field("datetime", lambda i: i.updated),
        "Contact.ContactID": Field("guid", lambda i: i.contact_id),
        "Contact.Name": Field("string", lambda i: contact(i).name),
        "Contact.ContactNumber": Field("string", lambda i: contact(i).account_number),
        "AmountDue": Field("decimal", lambda i: i.amount_due),
        "AmountPaid": Field("decimal", lambda i: i.amount_paid),
        "AmountCredited": Field("decimal", lambda i: i.amount_credited),
        "SubTotal": Field("decimal", lambda i: i.sub_total),
        "TotalTax": Field("decimal", lambda i: i.total_tax),
        "Total": Field("decimal", lambda i: i.total),
        "CurrencyCode": Field("string", lambda i: i.currency),
        "CurrencyRate": Field("decimal", lambda i: i.currency_rate),
        "LineAmountTypes": Field("string", lambda i: i.line_amount_types),
        "SentToContact": Field("bool", lambda i: i.sent_to_contact),
        "HasAttachments": Field("bool", lambda i: False),
    }


def contact_fields() -> dict[str, Field]:
    return {
        "ContactID": Field("guid", lambda c: c.contact_id),
        "Name": Field("string", lambda c: c.name),
        "FirstName": Field("string", lambda c: c.first_name),
        "LastName": Field("string", lambda c: c.last_name),
        "EmailAddress": Field("string", lambda c: c.email),
        "AccountNumber": Field("string", lambda c: c.account_number),
        "ContactStatus": Field("string", lambda c: c.status),
        "IsCustomer": Field("bool", lambda c: c.is_customer),
        "IsSupplier": Field("bool", lambda c: c.is_supplier),
        "DefaultCurrency": Field("string", lambda c: c.default_currency),
        "UpdatedDateUTC": Field("datetime", lambda c: c.updated),
    }


def payment_fields(org: Organisation) -> dict[str, Field]:
    def inv(p: Payment) -> Invoice:
        return org.invoices[p.invoice_id]

    return {
        "PaymentID": Field("guid", lambda p: p.payment_id),
        "Date": Field("date", lambda p: p.date),
        "Amount": Field("decimal", lambda p: p.amount),
        "CurrencyRate": Field("decimal", lambda p: p.currency_rate),
        "Reference": Field("string", lambda p: p.reference),
        "Status": Field("string", lambda p: p.status),
        "IsReconciled": Field("bool", lambda p: p.is_reconciled),
        "PaymentType": Field(
            "string", lambda p: "ACCRECPAYMENT" if inv(p).type == "ACCREC" else "ACCPAYPAYMENT"
        ),
        "UpdatedDateUTC": Field("datetime", lambda p: p.updated),
        "Invoice.InvoiceID": Field("guid", lambda p: p.invoice_id),
        "Invoice.InvoiceNumber": Field("string", lambda p: inv(p).number),
        "Invoice.Type": Field("string", lambda p: inv(p).type),
        "Invoice.Contact.ContactID": Field("guid", lambda p: inv(p).contact_id),
    }


def credit_note_fields() -> dict[str, Field]:
    return {
        "CreditNoteID": Field("guid", lambda n: n.credit_note_id),
        "CreditNoteNumber": Field("string", lambda n: n.number),
        "Type": Field("string", lambda n: n.type),
        "Status": Field("string", lambda n: n.status),
        "Reference": Field("string", lambda n: n.reference),
        "Date": Field("date", lambda n: n.date),
        "UpdatedDateUTC": Field("datetime", lambda n: n.updated),
        "Contact.ContactID": Field("guid", lambda n: n.contact_id),
        "Total": Field("decimal", lambda n: n.total),
        "RemainingCredit": Field("decimal", lambda n: n.remaining_credit),
        "CurrencyCode": Field("string", lambda n: n.currency),
    }


#: Per record type, the where fields (lower case) whose value never changes once a record
#: exists: a filter on them alone is kept with the cached order (``OrderCache.matching``).
#: An edit cannot change an invoice's or credit note's Type (edits.py refuses), and a
#: payment stays with the invoice it was made against.
FIXED_FIELDS: dict[str, frozenset[str]] = {
    "Invoice": frozenset({"type", "invoiceid"}),
    "CreditNote": frozenset({"type", "creditnoteid"}),
    "Payment": frozenset({"paymenttype", "paymentid", "invoice.invoiceid", "invoice.type"}),
}
