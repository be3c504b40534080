"""Control endpoints for the unkind modes, bulk imports, lock dates and prepayments.

Kept apart from :mod:`.control` so that module stays about the basics; ``ControlApi``
hands every path it does not know to :func:`handle` first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import prepaid
from .bulk import bulk_import
from .dates import parse_body_date
from .money import json_number
from .organisation import Organisation, OrgError

NOT_MINE = object()

ENDPOINTS = [
    "GET|POST /_sandbox/modes  {shuffle_ties, idempotency_ttl, email_idempotent, strict}",
    "POST /_sandbox/bulk-import  {invoices}",
    "GET|POST /_sandbox/lock-dates  {period_lock_date, end_of_year_lock_date} (null clears)",
    "POST /_sandbox/prepayments | overpayments  {contact_id, amount, date?, reference?,"
    " allocations: [{invoice_id, amount}]}",
    "POST /_sandbox/raw/invoices/{id}  {Field: value | null}  (forced into the invoice's JSON)",
    "PATCH /_sandbox/contacts/{id}  {name?, email?, tax_number?}",
]


def handle(org: Organisation, method: str, parts: list[str], data: dict[str, Any]) -> Any:
    key = parts[0] if parts else ""
    if key == "modes" and len(parts) == 1:
        if method == "POST":
            with org.lock:
                org.modes.update(data)
        return org.modes.as_json()
    if key == "bulk-import" and len(parts) == 1 and method == "POST":
        return bulk_import(org, int(data.get("invoices", 200)), seed=int(data.get("seed", 0)))
    if key == "lock-dates" and len(parts) == 1:
        if method == "POST":
            with org.lock:
                for name, attr in (
                    ("period_lock_date", "period_lock_date"),
                    ("end_of_year_lock_date", "end_of_year_lock_date"),
                ):
                    if name in data:
                        value = data[name]
                        setattr(org, attr, parse_body_date(value) if value else None)
        return {
            "period_lock_date": _iso(org.period_lock_date),
            "end_of_year_lock_date": _iso(org.end_of_year_lock_date),
        }
    if key == "raw" and len(parts) == 3 and parts[1] == "invoices" and method == "POST":
        with org.lock:
            inv = org.find_invoice(parts[2])
            org.overrides.setdefault(inv.invoice_id, {}).update(_plain(data))
            inv.updated = org.touch()
            return {"invoice_id": inv.invoice_id, "overrides": org.overrides[inv.invoice_id]}
    if key == "contacts" and len(parts) == 2 and method == "PATCH":
        return _edit_contact(org, parts[1], data)
    if key in prepaid.HEADS and len(parts) == 1 and method == "POST":
        return _receive(org, prepaid.HEADS[key], data)
    return NOT_MINE


def _receive(org: Organisation, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    with org.lock:
        on = parse_body_date(data["date"]) if data.get("date") else org.clock.now().date()
        item = prepaid.receive(
            org, kind, str(data["contact_id"]), Decimal(str(data["amount"])), on,
            reference=str(data.get("reference") or ""),
        )  # fmt: skip
        for alloc in data.get("allocations") or []:
            prepaid.allocate(org, item, str(alloc["invoice_id"]), Decimal(str(alloc["amount"])), on)
        row = next(r for r in prepaid.truth_rows(org) if r["id"] == item.prepaid_id)
        return dict(row)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _edit_contact(org: Organisation, contact_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a user can type into a contact: any Unicode, markup included, or nothing."""
    with org.lock:
        contact = org.contacts.get(contact_id.lower())
        if contact is None:
            raise OrgError("The resource you're looking for cannot be found", status=404)
        for field in ("name", "email", "tax_number"):
            if field in data:
                setattr(contact, field, str(data[field] or ""))
        if "email" in data and not data["email"]:
            contact.persons = []
        contact.updated = org.touch()
        return {"contact_id": contact.contact_id, "name": contact.name, "email": contact.email}


def _plain(value: Any) -> Any:
    """Control bodies parse numbers as Decimal; the JSON writer wants plain numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return json_number(value)
    return value
