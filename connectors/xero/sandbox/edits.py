"""Creating and updating invoices through the API, with Xero's edit rules.

* PAID, VOIDED and DELETED invoices are final: any change is refused with
  "Invoice not of valid status for modification".
* DRAFT, SUBMITTED and AUTHORISED invoices can be edited only while nothing is
  allocated to them; once a payment or credit note is, any change is refused
  with "This document cannot be edited as it has a payment or credit note
  allocated to it".  Fields a client echoes back unchanged (a GET'd model
  POSTed back) are not changes.
* ``LineItems``, when present, is the complete new list: a line with a known
  ``LineItemID`` is kept and patched, a line without one is new (Xero puts new
  lines before the ID-bearing ones), existing lines left out are removed.
* Totals are recomputed from the lines; read-only figures in the request
  (``Total``, ``AmountDue``, ``TaxAmount``...) are ignored, except that a
  ``LineAmount`` that contradicts Quantity x UnitAmount is refused.
* With ``summarizeErrors`` (the default) one bad element fails the whole
  request with a 400 and nothing is saved; with ``summarizeErrors=false`` good
  elements are saved and bad ones come back in a 200 with ``HasErrors`` and
  ``ValidationErrors``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .dates import DateParseError, parse_body_date
from .edit_lines import (
    Invalid,
    check_ready,
    line_amount_types_of,
    line_record,
    lines_signature,
    merge_lines,
    new_line,
    to_decimal,
    to_uuid,
)
from .locks import lock_refusal
from .models import Contact, Invoice
from .money import CURRENCY_RATES, text
from .organisation import ALLOCATED, API_USER, INVALID_STATUS, Organisation, transition_error
from .totals import reprice_invoice

FINAL_STATUSES = frozenset({"PAID", "VOIDED", "DELETED"})


@dataclass
class Outcome:
    request: dict[str, Any]
    invoice: Invoice | None = None
    existing: Invoice | None = None
    errors: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    lines_changed: bool = False


def _date(value: object, name: str) -> date:
    try:
        return parse_body_date(value)
    except DateParseError as exc:
        raise Invalid(f"{name} '{value}' is not a valid date") from exc


class InvoiceWriter:
    def __init__(self, org: Organisation) -> None:
        self.org = org

    # ----------------------------------------------------------- public API
    def run(self, elements: list[Any], *, create_only: bool, path_id: str | None) -> list[Outcome]:
        """Stage every element; nothing is committed here."""
        out: list[Outcome] = []
        for raw in elements:
            if not isinstance(raw, dict):
                out.append(Outcome({}, errors=["Invalid invoice element"]))
                continue
            out.append(self._stage(raw, create_only=create_only, path_id=path_id))
        return out

    def commit(self, outcome: Outcome) -> Invoice:
        assert outcome.invoice is not None
        org = self.org
        at = org.touch()
        inv = outcome.invoice
        inv.updated = at
        if outcome.existing is None:
            inv.created = at
            for record in inv.history:
                record.at = at
            org.add_invoice(inv)
            if inv.status == "AUTHORISED":
                org.settle(inv, at)
            org.writes.created_invoices.append(
                {
                    "invoice_id": inv.invoice_id,
                    "invoice_number": inv.number,
                    "type": inv.type,
                    "status": inv.status,
                    "contact_id": inv.contact_id,
                    "currency": inv.currency,
                    "total": text(inv.total),
                    "lines": [line_record(ln) for ln in inv.line_items],
                    "at": at.isoformat(),
                }
            )
            return inv
        old = outcome.existing
        if not outcome.changed:
            return old
        if old.number != inv.number:
            wanted = inv.number
            inv.number = old.number
            org.renumber(inv, wanted)
        for record in inv.history[len(old.history) :]:
            record.at = at
        org.invoices[inv.invoice_id] = inv
        if inv.status in ("AUTHORISED", "PAID"):
            org.settle(inv, at)
        if outcome.changed:  # pragma: no branch - unchanged returned above
            org.writes.updated_invoices.append(
                {
                    "invoice_id": inv.invoice_id,
                    "invoice_number": inv.number,
                    "changed": list(outcome.changed),
                    "status": inv.status,
                    "at": at.isoformat(),
                }
            )
        if outcome.lines_changed:
            org.writes.line_edits.append(
                {
                    "invoice_id": inv.invoice_id,
                    "invoice_number": inv.number,
                    "before": [line_record(ln) for ln in old.line_items],
                    "after": [line_record(ln) for ln in inv.line_items],
                    "at": at.isoformat(),
                }
            )
        return inv

    # -------------------------------------------------------------- staging
    def _stage(self, raw: dict[str, Any], *, create_only: bool, path_id: str | None) -> Outcome:
        org = self.org
        outcome = Outcome(raw)
        existing: Invoice | None = None
        if path_id is not None:
            existing = org.invoices.get(path_id.lower())
            if existing is None:
                outcome.errors.append("Invoice could not be found")
                return outcome
        else:
            given = raw.get("InvoiceID")
            if given:
                ident = to_uuid(given)
                existing = org.invoices.get(ident) if ident else None
                if existing is None and not create_only:
                    outcome.errors.append(f"Invoice with InvoiceID '{given}' could not be found")
                    return outcome
                if existing is not None and create_only:
                    outcome.errors.append("An invoice with this InvoiceID already exists")
                    return outcome
            elif not create_only and raw.get("InvoiceNumber"):
                existing = org.accrec_by_number(str(raw["InvoiceNumber"]))
        try:
            if existing is None:
                outcome.invoice = self._create(raw)
            else:
                outcome.existing = existing
                outcome.invoice = self._update(existing, raw, outcome)
        except Invalid as exc:
            outcome.errors.append(str(exc))
        return outcome

    def _contact(self, raw: object) -> Contact:
        if not isinstance(raw, dict):
            raise Invalid("A Contact must be specified for this type of transaction")
        cid = raw.get("ContactID")
        if cid:
            ident = to_uuid(cid)
            found = self.org.contacts.get(ident) if ident else None
            if found is None:
                raise Invalid(f"The contact with ContactID '{cid}' could not be found")
            return found
        name = str(raw.get("Name") or "").strip()
        if not name:
            raise Invalid("A Contact must be specified for this type of transaction")
        for contact in self.org.contacts.values():
            if contact.name.lower() == name.lower():
                return contact
        # Xero creates a contact when given an unknown name.
        contact = Contact(
            contact_id=self.org.new_id(),
            name=name,
            first_name=str(raw.get("FirstName") or ""),
            last_name=str(raw.get("LastName") or ""),
            email=str(raw.get("EmailAddress") or ""),
            status="ACTIVE",
            is_customer=True,
            is_supplier=False,
            updated=self.org.touch(),
        )
        self.org.contacts[contact.contact_id] = contact
        return contact

    def _create(self, raw: dict[str, Any]) -> Invoice:
        org = self.org
        kind = str(raw.get("Type") or "")
        if kind not in ("ACCREC", "ACCPAY"):
            raise Invalid("Invoice Type must be ACCREC or ACCPAY")
        contact = self._contact(raw.get("Contact"))
        status = str(raw.get("Status") or "DRAFT").upper()
        if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            raise Invalid("Invoice not of valid status for creation")
        now = org.clock.now()
        currency = str(raw.get("CurrencyCode") or contact.default_currency or org.region.currency)
        if currency not in CURRENCY_RATES:
            raise Invalid(f"Organisation is not subscribed to currency {currency}")
        lat = line_amount_types_of(raw.get("LineAmountTypes"), "Exclusive")
        inv = Invoice(
            invoice_id=org.new_id(),
            type=kind,
            number="",
            reference=str(raw.get("Reference") or ""),
            contact_id=contact.contact_id,
            date=_date(raw["Date"], "Date") if raw.get("Date") else now.date(),
            due_date=_date(raw["DueDate"], "DueDate") if raw.get("DueDate") else None,
            status=status,
            line_amount_types=lat,
            line_items=[],
            currency=currency,
            currency_rate=self._rate(raw, currency, org.region.currency_rate(currency)),
            created=now,
            updated=now,
            created_by_app=True,
        )
        locked = lock_refusal(org, inv.date)
        if locked:
            raise Invalid(locked)
        if raw.get("ExpectedPaymentDate"):
            inv.expected_payment_date = _date(raw["ExpectedPaymentDate"], "ExpectedPaymentDate")
        if "SentToContact" in raw:
            inv.sent_to_contact = bool(raw["SentToContact"])
        _given_number(org, inv, raw)
        lines_raw = raw.get("LineItems") or []
        if not isinstance(lines_raw, list):
            raise Invalid("LineItems must be a list")
        inv.line_items = [new_line(self.org, item, inv) for item in lines_raw]
        check_ready(inv)
        reprice_invoice(inv, self.org.region.rates())
        if kind == "ACCREC" and not inv.number:
            inv.number = org.take_invoice_number()
        org.add_history(
            inv, "Created", f"{inv.number} to {contact.name} for {text(inv.total)}.", API_USER, now
        )
        if status == "AUTHORISED":
            org.add_history(inv, "Approved", f"{inv.number} approved.", API_USER, now)
        return inv

    def _update(self, existing: Invoice, raw: dict[str, Any], outcome: Outcome) -> Invoice:
        cand = copy.deepcopy(existing)
        changed = self._apply_fields(existing, cand, raw, outcome)
        return self._apply_status(existing, cand, raw, changed, outcome)

    def _apply_fields(
        self, existing: Invoice, cand: Invoice, raw: dict[str, Any], outcome: Outcome
    ) -> list[str]:
        """Set on ``cand`` what ``raw`` changes; the names of the fields that did change."""
        org = self.org
        changed: list[str] = []

        def set_if(name: str, value: object) -> None:
            if getattr(cand, name) != value:
                setattr(cand, name, value)
                changed.append(name)

        if "Type" in raw and raw["Type"] and raw["Type"] != existing.type:
            raise Invalid("The Type of an invoice cannot be changed")
        if raw.get("Contact"):
            set_if("contact_id", self._contact(raw["Contact"]).contact_id)
        if "Reference" in raw and raw["Reference"] is not None:
            set_if("reference", str(raw["Reference"]))
        if raw.get("Date"):
            set_if("date", _date(raw["Date"], "Date"))
        if raw.get("DueDate"):
            set_if("due_date", _date(raw["DueDate"], "DueDate"))
        if raw.get("ExpectedPaymentDate"):
            set_if(
                "expected_payment_date", _date(raw["ExpectedPaymentDate"], "ExpectedPaymentDate")
            )
        if raw.get("LineAmountTypes"):
            set_if(
                "line_amount_types",
                line_amount_types_of(raw["LineAmountTypes"], cand.line_amount_types),
            )
        if raw.get("CurrencyCode"):
            currency = str(raw["CurrencyCode"])
            if currency not in CURRENCY_RATES:
                raise Invalid(f"Organisation is not subscribed to currency {currency}")
            set_if("currency", currency)
        if raw.get("CurrencyRate") is not None or "currency" in changed:
            set_if(
                "currency_rate",
                self._rate(raw, cand.currency, org.region.currency_rate(cand.currency)),
            )
        if raw.get("InvoiceNumber") and str(raw["InvoiceNumber"]) != existing.number:
            number = str(raw["InvoiceNumber"]).strip()
            if cand.type == "ACCREC" and org.invoice_number_taken(number, exclude=cand.invoice_id):
                raise Invalid("Invoice # must be unique.")
            set_if("number", number)
        if "SentToContact" in raw and raw["SentToContact"] is not None:
            set_if("sent_to_contact", bool(raw["SentToContact"]))
        if "LineItems" in raw and raw["LineItems"] is not None:
            if not isinstance(raw["LineItems"], list):
                raise Invalid("LineItems must be a list")
            new_lines = merge_lines(self.org, cand, raw["LineItems"])
            if lines_signature(new_lines) != lines_signature(existing.line_items):
                cand.line_items = new_lines
                changed.append("line_items")
                outcome.lines_changed = True
        reprice_invoice(cand, self.org.region.rates())
        if "line_amount_types" in changed and "line_items" not in changed:
            outcome.lines_changed = True
        return changed

    def _apply_status(
        self,
        existing: Invoice,
        cand: Invoice,
        raw: dict[str, Any],
        changed: list[str],
        outcome: Outcome,
    ) -> Invoice:
        """Xero's edit rules (lock dates, final statuses, allocations), then the history."""
        org = self.org
        target = str(raw.get("Status") or cand.status).upper()
        status_change = target != existing.status
        if not changed and not status_change:
            return cand
        locked = lock_refusal(self.org, min(existing.date, cand.date))
        if locked:
            raise Invalid(locked)
        if existing.status in FINAL_STATUSES:
            raise Invalid(INVALID_STATUS)
        if existing.has_allocations:
            raise Invalid(ALLOCATED)
        if status_change:
            problem = transition_error(cand, target)
            if problem:
                raise Invalid(problem)
            cand.status = target
            changed.append("status")
        check_ready(cand)
        if changed != ["status"]:
            org.add_history(
                cand, "Edited", f"{cand.number} edited through the API.", API_USER, org.clock.now()
            )
        if status_change:
            label = {"AUTHORISED": "Approved", "VOIDED": "Voided", "DELETED": "Deleted"}.get(
                target, target.title()
            )
            org.add_history(
                cand, label, f"{cand.number} {label.lower()}.", API_USER, org.clock.now()
            )
        outcome.changed = changed
        return cand

    # --------------------------------------------------------------- checks
    @staticmethod
    def _rate(raw: dict[str, Any], currency: str, default: Decimal) -> Decimal:
        if raw.get("CurrencyRate") not in (None, 0, ""):
            rate = to_decimal(raw["CurrencyRate"], "CurrencyRate")
            if rate <= 0:
                raise Invalid("CurrencyRate must be greater than zero")
            return rate
        return default


def _given_number(org: Organisation, inv: Invoice, raw: dict[str, Any]) -> None:
    """A new invoice's own number, if given: a sale's must be unique (a bill's need not)."""
    number = str(raw.get("InvoiceNumber") or "").strip()
    if inv.type == "ACCREC":
        if number:
            if len(number) > 255:
                raise Invalid("Invoice Number must be 255 characters or less")
            if org.invoice_number_taken(number):
                raise Invalid("Invoice # must be unique.")
            inv.number = number
    else:
        inv.number = number
