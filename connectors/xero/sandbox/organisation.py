"""One Xero organisation's state and the business rules that change it.

Everything that mutates records goes through here under one lock, so the HTTP
API, the control API and the seed all obey the same rules (a payment moves an
invoice to PAID, deleting it moves it back, a void zeroes AmountDue...).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .balances import BalanceBook, Owed
from .clock import SandboxClock
from .models import Allocation, Contact, CreditNote, HistoryRecord, Invoice, Payment, Prepaid
from .modes import Modes
from .money import ZERO, cents, text
from .ordercache import OrderCache
from .records import Records
from .regions import NZ, Region
from .rendercache import RenderCache

API_USER = "System Generated"


ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "DRAFT": frozenset({"SUBMITTED", "AUTHORISED", "DELETED"}),
    "SUBMITTED": frozenset({"DRAFT", "AUTHORISED", "DELETED"}),
    "AUTHORISED": frozenset({"VOIDED"}),
}
STATUS_LABELS = {
    "SUBMITTED": "Submitted",
    "AUTHORISED": "Approved",
    "VOIDED": "Voided",
    "DELETED": "Deleted",
    "DRAFT": "Edited",
    "PAID": "Paid",
}
ALLOCATED = "This document cannot be edited as it has a payment or credit note allocated to it"
INVALID_STATUS = "Invoice not of valid status for modification"


def transition_error(inv: Invoice, status: str) -> str | None:
    """Xero's refusal for moving ``inv`` to ``status``, or None if allowed.

    DRAFT and SUBMITTED can be approved or deleted; AUTHORISED can only be
    voided, and only while nothing is allocated; PAID, VOIDED and DELETED are
    final.
    """
    if status == inv.status:
        return None
    if status not in ALLOWED_TRANSITIONS.get(inv.status, frozenset()):
        return INVALID_STATUS
    if status == "VOIDED" and inv.has_allocations:
        return ALLOCATED
    return None


class OrgError(Exception):
    """A request the organisation refuses; ``message`` is Xero's wording where known."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class WriteLog:
    """Everything a client changed, for tests to read back."""

    history_notes: list[dict[str, Any]] = field(default_factory=list)
    emails: list[dict[str, Any]] = field(default_factory=list)
    line_edits: list[dict[str, Any]] = field(default_factory=list)
    created_invoices: list[dict[str, Any]] = field(default_factory=list)
    updated_invoices: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "history_notes": list(self.history_notes),
            "emails": list(self.emails),
            "line_edits": list(self.line_edits),
            "created_invoices": list(self.created_invoices),
            "updated_invoices": list(self.updated_invoices),
        }


class Organisation:
    def __init__(self, tenant_id: str, name: str, clock: SandboxClock) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.clock = clock
        self.lock = threading.RLock()
        # Tables that count changes to their membership, for the list order cache.
        self.contacts: Records[Contact] = Records()
        self.invoices: Records[Invoice] = Owed()  # also notes the ids written
        self.payments: Records[Payment] = Records()
        self.credit_notes: Records[CreditNote] = Records()
        self.prepaid: dict[str, Prepaid] = {}
        self.next_invoice_number = 1
        self.next_credit_note_number = 1
        self.writes = WriteLog()
        self.connection_id = ""
        self.connected_at: datetime = clock.now()
        self._last_stamp: datetime | None = None
        self._accrec_numbers: dict[str, str] = {}
        #: Edition (tax rates, chart of accounts, base currency) and lock dates.
        self.region: Region = NZ
        self.period_lock_date: date | None = None
        self.end_of_year_lock_date: date | None = None
        self.created_at: datetime = clock.now()
        #: Unkind answers to what Xero does not document (see modes.py).
        self.modes = Modes()
        #: Fields forced into an invoice's JSON (``POST /_sandbox/raw/invoices/{id}``): hostile
        #: or future provider data for client tests. None removes the field.
        self.overrides: dict[str, dict[str, Any]] = {}
        #: Default list order per record type, reused while no record or timestamp changed.
        self.order_cache = OrderCache()
        #: Records' JSON texts, kept until the next write request (rendercache.py).
        self.renders = RenderCache()
        #: Customers' receivable balances, re-summed per invoice written (balances.py).
        self.balance_book = BalanceBook()

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def touch(self) -> datetime:
        """A fresh UpdatedDateUTC, strictly later than anything stamped before.

        Two writes in the same millisecond would otherwise share a timestamp and
        an ``If-Modified-Since`` cursor taken between them could miss one.
        """
        now = self.clock.now()
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def take_invoice_number(self) -> str:
        while True:
            number = f"INV-{self.next_invoice_number:04d}"
            self.next_invoice_number += 1
            if not self.invoice_number_taken(number):
                return number

    def invoice_number_taken(self, number: str, *, exclude: str | None = None) -> bool:
        """ACCREC numbers are unique per organisation (case-insensitively in Xero)."""
        owner = self._accrec_numbers.get(number.lower())
        return owner is not None and owner != exclude

    def accrec_by_number(self, number: str) -> Invoice | None:
        owner = self._accrec_numbers.get(number.lower())
        return self.invoices.get(owner) if owner else None

    def add_invoice(self, inv: Invoice) -> None:
        self.invoices[inv.invoice_id] = inv
        if inv.type == "ACCREC" and inv.number:
            self._accrec_numbers[inv.number.lower()] = inv.invoice_id

    def renumber(self, inv: Invoice, number: str) -> None:
        if inv.type == "ACCREC":
            if self._accrec_numbers.get(inv.number.lower()) == inv.invoice_id:
                del self._accrec_numbers[inv.number.lower()]
            if number:
                self._accrec_numbers[number.lower()] = inv.invoice_id
        inv.number = number

    def find_invoice(self, invoice_id: str) -> Invoice:
        inv = self.invoices.get(invoice_id.lower())
        if inv is None:
            raise OrgError("The resource you're looking for cannot be found", status=404)
        return inv

    def invoice_payments(self, inv: Invoice) -> list[Payment]:
        return [self.payments[p] for p in inv.payment_ids]

    def add_history(
        self, inv: Invoice, changes: str, details: str, user: str, at: datetime
    ) -> None:
        inv.history.append(HistoryRecord(changes=changes, details=details, user=user, at=at))

    # --------------------------------------------------------- payment state
    def settle(self, inv: Invoice, at: datetime) -> None:
        """Recompute AmountPaid/AmountCredited and the PAID <-> AUTHORISED flip."""
        live = [p for p in self.invoice_payments(inv) if p.status == "AUTHORISED"]
        inv.amount_paid = cents(sum((p.amount for p in live), ZERO))
        # AmountCredited: "Sum of all credit notes, over-payments and pre-payments applied".
        credited = sum((a.amount for a in [*inv.allocations, *inv.prepaid]), ZERO)
        inv.amount_credited = cents(credited)
        if inv.status in ("AUTHORISED", "PAID"):
            if inv.total > 0 and inv.amount_due <= 0:
                inv.status = "PAID"
                dates = [p.date for p in live] + [a.date for a in [*inv.allocations, *inv.prepaid]]
                inv.fully_paid_on = max(dates) if dates else at.date()
            else:
                inv.status = "AUTHORISED"
                inv.fully_paid_on = None
        inv.updated = at

    def add_payment(
        self,
        invoice_id: str,
        amount: Decimal | None = None,
        on: date | None = None,
        reference: str = "",
        *,
        reconciled: bool = False,
    ) -> Payment:
        with self.lock:
            inv = self.find_invoice(invoice_id)
            if inv.status != "AUTHORISED":
                raise OrgError("Payments can only be made against Authorised documents")
            due = inv.amount_due
            pay = due if amount is None else cents(amount)
            if pay <= 0:
                raise OrgError("Payment amount must be greater than zero")
            if pay > due:
                raise OrgError("Payment amount exceeds the amount outstanding on this document")
            at = self.touch()
            payment = Payment(
                payment_id=self.new_id(),
                invoice_id=inv.invoice_id,
                date=on or at.date(),
                amount=pay,
                currency_rate=inv.currency_rate,
                reference=reference,
                status="AUTHORISED",
                updated=at,
                is_reconciled=reconciled,
            )
            self.payments[payment.payment_id] = payment
            inv.payment_ids.append(payment.payment_id)
            self.settle(inv, at)
            self.add_history(
                inv,
                "Payment Received",
                f"Payment received from {self.contacts[inv.contact_id].name} on "
                f"{payment.date.isoformat()} for {text(pay)}.",
                API_USER,
                at,
            )
            return payment

    def delete_payment(self, payment_id: str) -> Payment:
        with self.lock:
            payment = self.payments.get(payment_id.lower())
            if payment is None:
                raise OrgError("The resource you're looking for cannot be found", status=404)
            if payment.status == "DELETED":
                raise OrgError("Payment has already been deleted")
            at = self.touch()
            payment.status = "DELETED"
            payment.updated = at
            inv = self.invoices[payment.invoice_id]
            self.settle(inv, at)
            self.add_history(
                inv, "Payment Deleted", f"Payment of {text(payment.amount)} removed.", API_USER, at
            )
            return payment

    # -------------------------------------------------------- status changes
    def change_status(self, inv: Invoice, status: str, at: datetime, user: str = API_USER) -> None:
        """Apply a status transition Xero allows, or raise Xero's refusal."""
        if status == inv.status:
            return
        problem = transition_error(inv, status)
        if problem:
            raise OrgError(problem)
        inv.status = status
        inv.updated = at
        label = STATUS_LABELS[status]
        self.add_history(inv, label, f"{label} {inv.number}.", user, at)
        if status == "AUTHORISED":
            self.settle(inv, at)

    # ------------------------------------------------------------ API writes
    def add_note(self, inv: Invoice, details: str) -> HistoryRecord:
        at = self.touch()
        record = HistoryRecord(changes="Note", details=details, user=API_USER, at=at)
        inv.history.append(record)
        self.writes.history_notes.append(
            {
                "invoice_id": inv.invoice_id,
                "invoice_number": inv.number,
                "details": details,
                "at": at.isoformat(),
            }
        )
        return record

    def email(self, inv: Invoice) -> list[str]:
        """Xero's preconditions for POST /Invoices/{id}/Email, then 'send'."""
        if inv.type != "ACCREC":
            raise OrgError("Only sales invoices (ACCREC) can be emailed")
        if inv.status not in ("SUBMITTED", "AUTHORISED", "PAID"):
            raise OrgError("Invoice must be SUBMITTED, AUTHORISED or PAID to be emailed")
        contact = self.contacts[inv.contact_id]
        recipients = contact.email_recipients()
        if not recipients:
            raise OrgError("The contact does not have a valid email address")
        at = self.touch()
        inv.sent_to_contact = True
        inv.updated = at
        self.add_history(
            inv, "Sent", f"This invoice has been sent to {', '.join(recipients)}.", API_USER, at
        )
        self.writes.emails.append(
            {
                "invoice_id": inv.invoice_id,
                "invoice_number": inv.number,
                "to": recipients,
                "at": at.isoformat(),
            }
        )
        return recipients

    # ----------------------------------------------------------------- truth
    def truth(self) -> dict[str, Any]:
        """Ground truth for tests: what a correct sync must end up holding (truth.py)."""
        from .truth import truth_of  # truth.py (through prepaid.py) builds on this module

        return truth_of(self)

    def allocate_credit(
        self, note: CreditNote, inv: Invoice, amount: Decimal, on: date, at: datetime
    ) -> None:
        alloc = Allocation(
            allocation_id=self.new_id(),
            credit_note_id=note.credit_note_id,
            invoice_id=inv.invoice_id,
            amount=cents(amount),
            date=on,
        )
        note.allocations.append(alloc)
        inv.allocations.append(alloc)
        self.settle(inv, at)
        if note.remaining_credit <= 0:
            note.status = "PAID"
