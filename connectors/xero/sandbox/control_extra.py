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
from .organisation import Organisation

NOT_MINE = object()

ENDPOINTS = [
    "GET|POST /_sandbox/modes  {shuffle_ties, idempotency_ttl, email_idempotent, strict}",
    "POST /_sandbox/bulk-import  {invoices}",
    "GET|POST /_sandbox/lock-dates  {period_lock_date, end_of_year_lock_date} (null clears)",
    "POST /_sandbox/prepayments | overpayments  {contact_id, amount, date?, reference?,"
    " allocations: [{invoice_id, amount}]}",
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
