"""The organisation's ground truth for tests: what a correct sync must end up holding.

Apart from :mod:`.organisation` so that module stays about the organisation's state and
rules; one row builder per record kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dates import to_ms
from .models import Contact, CreditNote, Invoice, Payment
from .money import text
from .prepaid import truth_rows as prepaid_truth

if TYPE_CHECKING:
    from .organisation import Organisation


def truth_of(org: Organisation) -> dict[str, Any]:
    """Ground truth, read under the organisation's lock."""
    with org.lock:
        invoices = sorted(
            (i for i in org.invoices.values() if i.type == "ACCREC"),
            key=lambda i: (i.number, i.invoice_id),
        )
        accrec = {i.invoice_id for i in invoices}
        return {
            "tenant_id": org.tenant_id,
            "now": org.clock.now().isoformat(),
            "home_currency": org.region.currency,
            "contacts": [
                _contact_row(c) for c in sorted(org.contacts.values(), key=lambda c: c.contact_id)
            ],
            "invoices": [_invoice_row(i) for i in invoices],
            "payments": [
                payment_row(org, p)
                for p in sorted(org.payments.values(), key=lambda p: p.payment_id)
                if p.invoice_id in accrec
            ],
            "credit_notes": [
                _credit_note_row(n)
                for n in sorted(org.credit_notes.values(), key=lambda n: n.number)
            ],
            "prepaid": prepaid_truth(org),
        }


def _contact_row(c: Contact) -> dict[str, Any]:
    return {
        "contact_id": c.contact_id,
        "name": c.name,
        "email": c.email,
        "status": c.status,
        "is_customer": c.is_customer,
        "is_supplier": c.is_supplier,
        "email_recipients": c.email_recipients(),
        "updated": c.updated.isoformat(),
    }


def _invoice_row(i: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": i.invoice_id,
        "invoice_number": i.number,
        "contact_id": i.contact_id,
        "status": i.status,
        "currency": i.currency,
        "date": i.date.isoformat(),
        "due_date": i.due_date.isoformat() if i.due_date else None,
        "total": text(i.total),
        "amount_due": text(i.amount_due),
        "amount_paid": text(i.amount_paid),
        "amount_credited": text(i.amount_credited),
        "sent_to_contact": i.sent_to_contact,
        "updated": i.updated.isoformat(),
        "updated_ms": to_ms(i.updated),
    }


def payment_row(org: Organisation, p: Payment) -> dict[str, Any]:
    """A payment as the truth document lists it (and as the control API answers a write)."""
    return {
        "payment_id": p.payment_id,
        "invoice_id": p.invoice_id,
        "invoice_number": org.invoices[p.invoice_id].number,
        "amount": text(p.amount),
        "date": p.date.isoformat(),
        "status": p.status,
        "updated": p.updated.isoformat(),
    }


def _credit_note_row(n: CreditNote) -> dict[str, Any]:
    return {
        "credit_note_id": n.credit_note_id,
        "number": n.number,
        "contact_id": n.contact_id,
        "status": n.status,
        "total": text(n.total),
        "allocations": [
            {"invoice_id": a.invoice_id, "amount": text(a.amount)} for a in n.allocations
        ],
    }
