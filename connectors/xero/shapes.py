"""The fields of Xero records that syncd reads, as ``msgspec`` Structs.

A 1,000-invoice page decoded into dicts was ~35 MB of small objects, held until the page was
written, three streams at a time; decoded into these it holds only what the mapper reads.
Scalars are ``Any`` on purpose: the mapper has always taken whatever JSON value Xero sent
(an id as a number, a total as a string) and judged it itself, and the decoders hand every
non-integer number to ``Decimal`` as its text (``float_hook``), so ``1.50`` stays ``1.50``.
Nested objects are Structs, and where the mapper tolerated something else in their place
(``"Contact": "x"`` reads as "no contact") the field takes that too (:data:`Odd`), so that a
record fits unless a list of lines or allocations holds something that is not one: such a
record was skipped before and is skipped now, with msgspec's reason.

The Structs are ``gc=False``: decoded JSON never refers back to its container, so they cannot
be part of a reference cycle, and keeping a page's thousands of them out of the cyclic
collector saves its walks over them (as in the QuickBooks connector's ``shapes``).
"""

from __future__ import annotations

from typing import Any

import msgspec

#: What the mapper reads as "not there" where an object belongs.
Odd = str | int | float | bool | list[Any] | None


class ContactRef(msgspec.Struct, gc=False):
    ContactID: Any = None


class InvoiceRef(msgspec.Struct, gc=False):
    InvoiceID: Any = None
    Type: Any = None
    CurrencyCode: Any = None
    Contact: ContactRef | Odd = None


class LineItem(msgspec.Struct, gc=False):
    LineItemID: Any = None
    Description: Any = None
    LineAmount: Any = None
    ItemCode: Any = None


class Allocation(msgspec.Struct, gc=False):
    Invoice: InvoiceRef | Odd = None
    Amount: Any = None


class Stamped(msgspec.Struct, gc=False):
    """What every record has that paging reads."""

    UpdatedDateUTC: Any = None


class Contact(Stamped):
    ContactID: Any = None
    Name: Any = None
    FirstName: Any = None
    LastName: Any = None
    ContactStatus: Any = None
    DefaultCurrency: Any = None
    EmailAddress: Any = None
    ContactPersons: Any = None
    ContactGroups: Any = None
    Addresses: Any = None
    Phones: Any = None
    CompanyNumber: Any = None
    TaxNumber: Any = None
    #: Only whether it was sent matters (a contact's text is kept without it).
    Balances: Any = msgspec.UNSET


class Invoice(Stamped):
    Type: Any = None
    InvoiceID: Any = None
    InvoiceNumber: Any = None
    Contact: ContactRef | Odd = None
    Date: Any = None
    DueDate: Any = None
    Status: Any = None
    LineItems: list[LineItem] | None = None
    Total: Any = None
    AmountDue: Any = None
    CurrencyCode: Any = None
    OnlineInvoiceUrl: Any = None
    #: Allocations named on the invoice (the incremental pull looks for new ones).
    CreditNotes: Any = None
    Prepayments: Any = None
    Overpayments: Any = None


class Payment(Stamped):
    PaymentID: Any = None
    PaymentType: Any = None
    Status: Any = None
    Invoice: InvoiceRef | Odd = None
    Date: Any = None
    Amount: Any = None


class Document(Stamped):
    """A credit note, prepayment or overpayment: money held for a customer, allocated."""

    CreditNoteID: Any = None
    PrepaymentID: Any = None
    OverpaymentID: Any = None
    Type: Any = None
    Status: Any = None
    Contact: ContactRef | Odd = None
    Date: Any = None
    CurrencyCode: Any = None
    Total: Any = None
    RemainingCredit: Any = None
    Allocations: list[Allocation] | None = None


class Loose(Stamped):
    """A record that fits none of the above: enough to name it, to page past it and (an
    invoice) to see what it says was allocated to it."""

    ContactID: Any = None
    InvoiceID: Any = None
    PaymentID: Any = None
    CreditNoteID: Any = None
    PrepaymentID: Any = None
    OverpaymentID: Any = None
    Type: Any = None
    PaymentType: Any = None
    #: An invoice's allocations, read even when the invoice itself does not fit: a skipped
    #: invoice still tells the incremental pull which credit streams moved.
    CreditNotes: Any = None
    Prepayments: Any = None
    Overpayments: Any = None


Shape = Contact | Invoice | Payment | Document
#: Each list collection's records.
SHAPES: dict[str, type[Shape]] = {
    "Contacts": Contact,
    "Invoices": Invoice,
    "Payments": Payment,
    "CreditNotes": Document,
    "Prepayments": Document,
    "Overpayments": Document,
}
