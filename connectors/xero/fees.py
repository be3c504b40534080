"""Late fees: a fee line on the invoice where Xero allows it, else a separate fee invoice.

Xero refuses to change the lines of an invoice that has a payment, credit note, prepayment or
overpayment allocated to it, or that is paid, voided or in a locked period; the fee then goes
on an invoice of its own. Both carry a ``[syncd:KEY]`` tag that is looked for before writing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.base import ActionResult, Charge, InvoiceRecord, PermanentError

from . import mapping, once
from .notes import header_key
from .transport import Rejected

if TYPE_CHECKING:
    from .client import XeroConnector

EDITABLE = ("DRAFT", "SUBMITTED", "AUTHORISED")
#: The fields of an existing line that are sent back unchanged when a fee line is added;
#: LineAmount and TaxAmount are derived by Xero and left out so they cannot contradict it.
KEPT_LINE_FIELDS = (
    "LineItemID",
    "Description",
    "Quantity",
    "UnitAmount",
    "ItemCode",
    "AccountCode",
    "TaxType",
    "DiscountRate",
    "Tracking",
)
#: Xero's wording when an update is refused because of payments or the invoice's status.
REFUSED_EDIT = ("cannot be edited", "not of valid status for modification", "lock date")


def fee_line(
    connector: XeroConnector, fee: Charge, key: str, reference: str = ""
) -> dict[str, Any]:
    opts = connector.options
    if not opts.late_fee_account_code and not opts.late_fee_item_code:
        raise PermanentError(
            "set late_fee_account_code (or late_fee_item_code) in the org's options to "
            "charge late fees in Xero"
        )
    description = f"{fee.description}{reference} {mapping.tag(key)}"
    line: dict[str, Any] = {
        "Description": description,
        "Quantity": Decimal(1),
        "UnitAmount": fee.amount,
        "TaxType": opts.late_fee_tax_type,
    }
    if opts.late_fee_account_code:
        line["AccountCode"] = opts.late_fee_account_code
    if opts.late_fee_item_code:
        line["ItemCode"] = opts.late_fee_item_code
    return line


def charge_on(
    connector: XeroConnector,
    raw: dict[str, Any],
    charge: Charge,
    idempotency_key: str,
    first: bool = False,
) -> ActionResult:
    if connector.options.late_fee_mode == "invoice":
        return fee_invoice(connector, raw, charge, idempotency_key, first=first)
    record = connector._record(raw)
    key_tag = mapping.tag_key(idempotency_key)
    applied = next((ln for ln in record.lines if ln.fee_key == key_tag), None)
    if applied is not None:
        return ActionResult(
            remote_id=applied.provider_line_id, detail="already applied", invoice=record
        )
    if record.currency != charge.currency:
        raise PermanentError(
            f"a fee in {charge.currency} cannot go on an invoice in {record.currency}"
        )
    reason = not_editable(raw)
    if reason is not None:
        return fee_invoice(connector, raw, charge, idempotency_key, because=reason, first=first)
    try:
        updated = _add_line(connector, raw, charge, idempotency_key, key_tag)
    except Rejected as exc:
        refused = " ".join(exc.messages).lower()
        if any(phrase in refused for phrase in REFUSED_EDIT):
            # A payment arrived between our read and our write: Xero no longer allows it.
            return fee_invoice(
                connector, raw, charge, idempotency_key, because=str(exc), first=first
            )
        raise
    invoice = connector._record((updated.get("Invoices") or [{}])[0])
    line = next((ln for ln in invoice.lines if ln.fee_key == key_tag), None)
    if line is None:
        raise PermanentError("Xero accepted the fee line but does not show it")
    return ActionResult(remote_id=line.provider_line_id, detail="fee line", invoice=invoice)


def _add_line(
    connector: XeroConnector, raw: dict[str, Any], charge: Charge, key: str, key_tag: str
) -> dict[str, Any]:
    """Send the invoice's lines back with the fee line added; Xero's answer (re-read if lost)."""
    invoice_id = str(raw["InvoiceID"])
    kept = [
        {k: line[k] for k in KEPT_LINE_FIELDS if line.get(k) is not None}
        for line in raw.get("LineItems") or []
        if isinstance(line, dict)
    ]
    body = {
        "Invoices": [
            {
                "InvoiceID": raw["InvoiceID"],
                "LineItems": [*kept, fee_line(connector, charge, key)],
            }
        ]
    }
    api = connector.api
    updated = _send_once(
        connector,
        functools.partial(api.update_invoice, connector.tenant_id, invoice_id),
        body,
        key,
        lambda: fee_line_on(connector, invoice_id, key_tag),
        what=f"fee line on invoice {invoice_id}",
    )
    if updated is None:  # the answer was lost, but the fee line is there
        updated = {"Invoices": [connector._invoice_raw(invoice_id) or {}]}
    return updated


def _send_once(
    connector: XeroConnector,
    send: Callable[..., Any],
    body: dict[str, Any],
    key: str,
    applied: Callable[[], bool],
    *,
    what: str,
) -> dict[str, Any] | None:
    """One fee write, exactly once: both fee paths check their amounts survive the SDK, send
    an Idempotency-Key and look for their tag when the answer is lost, so they share this."""
    payload = exact_numbers(body)
    return once.write_json_once(
        connector,
        lambda: send(payload, idempotency_key=header_key(key), _preload_content=False),
        applied,
        what=what,
    )


def fee_invoice(
    connector: XeroConnector,
    original: Mapping[str, Any],
    fee: Charge,
    key: str,
    because: str | None = None,
    *,
    first: bool = False,
) -> ActionResult:
    contact_id = (original.get("Contact") or {}).get("ContactID")
    if not contact_id:
        raise PermanentError("the invoice has no contact to charge a fee invoice to")
    number = str(original.get("InvoiceNumber") or original.get("InvoiceID")).replace('"', "'")
    reference = f"Late fee {number} {mapping.tag(key)}"
    # On a first attempt nothing can exist yet (a repeat is the Idempotency-Key's job).
    found = None if first else find_fee_invoice(connector, str(contact_id), reference)
    if found is not None:
        return ActionResult(remote_id=found.provider_id, detail="already applied", invoice=found)
    today = connector._now().date().isoformat()
    body = {
        "Invoices": [
            {
                "Type": mapping.SALES_INVOICE,
                "Contact": {"ContactID": contact_id},
                "Date": today,
                "DueDate": today,
                "CurrencyCode": fee.currency,
                "Status": "AUTHORISED",
                "LineAmountTypes": "Exclusive",
                "Reference": reference,
                "LineItems": [fee_line(connector, fee, key, f" (invoice {number})")],
            }
        ]
    }
    created = _send_once(
        connector,
        functools.partial(connector.api.create_invoices, connector.tenant_id),
        body,
        f"{key}:fee-invoice",
        lambda: find_fee_invoice(connector, str(contact_id), reference) is not None,
        what=f"fee invoice for {number}",
    )
    if created is None:  # the answer was lost, but the fee invoice is there
        found = find_fee_invoice(connector, str(contact_id), reference)
        assert found is not None
        return ActionResult(remote_id=found.provider_id, detail="fee invoice", invoice=found)
    invoice = connector._record((created.get("Invoices") or [{}])[0])
    detail = f"fee invoice for {number}"
    if because:
        detail += f" (the invoice could not take a fee line: {because})"
    return ActionResult(remote_id=invoice.provider_id, detail=detail, invoice=invoice)


def fee_line_on(connector: XeroConnector, invoice_id: str, key_tag: str) -> bool:
    raw = connector._invoice_raw(invoice_id)
    return raw is not None and any(ln.fee_key == key_tag for ln in connector._record(raw).lines)


def find_fee_invoice(
    connector: XeroConnector, contact_id: str, reference: str
) -> InvoiceRecord | None:
    api, tenant = connector.api, connector.tenant_id
    body = connector._json(
        lambda: api.get_invoices(
            tenant,
            where=f'Type=="ACCREC" AND Reference=="{reference}"',
            contact_i_ds=[contact_id],
            page=1,
            _preload_content=False,
        )
    )
    for raw in body.get("Invoices") or []:
        if isinstance(raw, dict) and raw.get("Status") not in ("DELETED", "VOIDED"):
            return connector._record(raw)
    return None


def not_editable(raw: Mapping[str, Any]) -> str | None:
    """Why Xero would refuse to change this invoice's lines, or None if it allows it."""
    status = str(raw.get("Status") or "")
    if status not in EDITABLE:
        return f"it is {status}"
    for field in ("AmountPaid", "AmountCredited"):
        try:
            if mapping.money(raw, field, Decimal(0)) > 0:
                return "a payment or credit note is allocated to it"
        except mapping.MappingError:
            return f"its {field} is unreadable"
    for field in ("Prepayments", "Overpayments"):
        if raw.get(field):
            return "a prepayment or overpayment is allocated to it"
    return None


def exact_numbers(value: Any) -> Any:
    """Check every Decimal in a request body survives xero-python's serializer.

    The SDK turns Decimal into float before ``json.dumps``. A float's shortest repr gives back
    any amount with up to 15 significant digits exactly; anything else is refused rather than
    sent rounded.
    """
    if isinstance(value, dict):
        return {k: exact_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact_numbers(v) for v in value]
    if isinstance(value, Decimal) and Decimal(repr(float(value))) != value:
        raise PermanentError(f"{value} cannot be sent to Xero without rounding")
    return value
