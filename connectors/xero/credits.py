"""A settlement's credit: an ACCRECCREDIT credit note allocated to the invoice, exactly once.

This is what Xero's own UI does ("Credit note" from the invoice, then "Allocate credit"), in
its two documented calls: ``PUT /CreditNotes`` (Xero takes no allocations inline) and
``PUT /CreditNotes/{id}/Allocations``. Both carry an ``Idempotency-Key``; the credit note's
``Reference`` carries the ``[syncd:KEY]`` tag, so a replay after a crash, or after Xero
forgot the key, finds the credit note instead of issuing a second one, and allocates it only
if that had not happened yet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.base import ActionResult, Credit, PermanentError

from . import mapping, once
from .fees import exact_numbers
from .notes import header_key

if TYPE_CHECKING:
    from .client import XeroConnector


def _find(connector: XeroConnector, contact_id: str, tag: str) -> dict[str, Any] | None:
    tenant = connector.tenant_id
    body = connector._json(
        lambda: connector.api.get_credit_notes(
            tenant,
            where=f'Type=="ACCRECCREDIT" AND Contact.ContactID==guid("{contact_id}")',
            _preload_content=False,
        )
    )
    for raw in body.get("CreditNotes") or []:
        if (
            isinstance(raw, dict)
            and tag in str(raw.get("Reference") or "")
            and raw.get("Status") not in ("DELETED", "VOIDED")
        ):
            return raw
    return None


def _allocated_to(note: dict[str, Any], invoice_id: str) -> bool:
    return any(
        str((a.get("Invoice") or {}).get("InvoiceID") or "").lower() == invoice_id.lower()
        for a in note.get("Allocations") or []
        if isinstance(a, dict)
    )


def _check(raw: dict[str, Any], credit: Credit) -> None:
    if not mapping.is_sales_invoice(raw):
        raise PermanentError("only a sales invoice can be credited")
    currency = str(raw.get("CurrencyCode") or "")
    if currency and currency != credit.currency:
        raise PermanentError(
            f"a credit in {credit.currency} cannot be applied to an invoice in {currency}"
        )
    due = mapping.money(raw, "AmountDue", Decimal(0))
    if credit.amount > due:
        raise PermanentError(
            f"the credit ({credit.amount}) exceeds the invoice's amount due ({due})"
        )


def apply_credit(
    connector: XeroConnector, invoice_id: str, credit: Credit, key: str, account: str
) -> ActionResult:
    raw = connector._invoice_raw(invoice_id)
    if raw is None:
        raise PermanentError(f"sales invoice {invoice_id} does not exist at Xero")
    contact_id = str((raw.get("Contact") or {}).get("ContactID") or "")
    tag = mapping.tag(key)
    note = _find(connector, contact_id, tag)
    if note is not None and _allocated_to(note, invoice_id):
        return ActionResult(
            remote_id=str(note.get("CreditNoteID")),
            detail="already applied",
            invoice=connector._record(raw),
        )
    _check(raw, credit)
    day = (credit.on or connector._now().date()).isoformat()
    tenant = connector.tenant_id
    if note is None:
        number = str(raw.get("InvoiceNumber") or invoice_id)
        body = exact_numbers(
            {
                "CreditNotes": [
                    {
                        "Type": mapping.SALES_CREDIT,
                        "Contact": {"ContactID": contact_id},
                        "Date": day,
                        "Status": "AUTHORISED",
                        "CurrencyCode": credit.currency,
                        "LineAmountTypes": "NoTax",
                        "Reference": f"{credit.reference} {tag}"[-255:],
                        "LineItems": [
                            {
                                "Description": f"{credit.reference} (invoice {number})",
                                "Quantity": Decimal(1),
                                "UnitAmount": credit.amount,
                                "AccountCode": account,
                            }
                        ],
                    }
                ]
            }
        )
        once.write_json_once(
            connector,
            lambda: connector.api.create_credit_notes(
                tenant, body, idempotency_key=header_key(key), _preload_content=False
            ),
            lambda: _find(connector, contact_id, tag) is not None,
            what=f"credit note for invoice {number}",
        )
        note = _find(connector, contact_id, tag)
        if note is None:
            raise PermanentError("Xero accepted the credit note but does not list it")
    note_id = str(note["CreditNoteID"])
    allocation = exact_numbers(
        {"Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": credit.amount,
                          "Date": day}]}
    )  # fmt: skip
    once.write_json_once(
        connector,
        lambda: connector.api.create_credit_note_allocation(
            tenant,
            note_id,
            allocation,
            idempotency_key=header_key(f"{key}:allocate"),
            _preload_content=False,
        ),
        lambda: _allocated_to(_find(connector, contact_id, tag) or {}, invoice_id),
        what=f"allocation of credit note {note_id}",
    )
    fresh = connector._invoice_raw(invoice_id)
    return ActionResult(
        remote_id=note_id,
        detail=f"credit note {note.get('CreditNoteNumber') or note_id} allocated",
        invoice=connector._record(fresh) if fresh else None,
    )
