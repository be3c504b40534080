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

The rules live in one module per responsibility (books, itemlines, customers, invoices,
payments, views); :class:`Company` puts them together.
"""

from __future__ import annotations

from .customers import CustomerRules
from .invoices import InvoiceRules
from .payments import PaymentRules
from .shapes import (
    CREDIT_LINK_NOTE,
    ENTITIES,
    JSON,
    KEY_ORDER,
    PATH_TO_ENTITY,
    TXN_ENTITIES,
    VOID_NOTE,
    Tombstone,
    WriteResult,
)
from .views import Views

__all__ = [
    "CREDIT_LINK_NOTE",
    "ENTITIES",
    "JSON",
    "KEY_ORDER",
    "PATH_TO_ENTITY",
    "TXN_ENTITIES",
    "VOID_NOTE",
    "Company",
    "Tombstone",
    "WriteResult",
]


class Company(InvoiceRules, PaymentRules, CustomerRules, Views):
    """One realm's books. All state changes go through methods holding ``self.lock``."""
