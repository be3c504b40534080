"""An invoice's line items as an API write changes them: kept, patched, new, checked.

``LineItems`` in a request is the complete new list: a line with a known ``LineItemID`` is
kept and patched, a line without one is new (Xero puts new lines before the ID-bearing ones).
A line must name an account the edition has, not archived and not a control account, and a
tax type that applies to the invoice's side (sales or purchases); an invoice leaving DRAFT
needs lines, a due date and an account on every line.
"""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import LINE_AMOUNT_TYPES, Invoice, LineItem
from .money import cents, text
from .organisation import Organisation
from .totals import line_amount

#: Control accounts Xero refuses on a line (debtors, creditors).
NOT_FOR_LINES = frozenset({"610", "800"})


class Invalid(Exception):
    """One element refused, with Xero's message."""


def to_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise Invalid(f"{name} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise Invalid(f"{name} must be a number") from exc


def to_uuid(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def merge_lines(org: Organisation, cand: Invoice, incoming: list[Any]) -> list[LineItem]:
    by_id = {ln.line_item_id: ln for ln in cand.line_items}
    new: list[LineItem] = []
    kept: list[LineItem] = []
    for item in incoming:
        if not isinstance(item, dict):
            raise Invalid("Invalid line item")
        given = item.get("LineItemID")
        if given:
            ident = to_uuid(given)
            if ident is None or ident not in by_id:
                raise Invalid(f"LineItemID '{given}' does not belong to this invoice")
            line = copy.deepcopy(by_id[ident])
            patch_line(org, line, item, cand)
            kept.append(line)
        else:
            new.append(new_line(org, item, cand))
    return new + kept


def new_line(org: Organisation, item: object, inv: Invoice) -> LineItem:
    if not isinstance(item, dict):
        raise Invalid("Invalid line item")
    line = LineItem(
        line_item_id=org.new_id(),
        description="",
        quantity=Decimal(1),
        unit_amount=Decimal(0),
        account_code="",
        tax_type="",
    )
    patch_line(org, line, item, inv, new=True)
    return line


def patch_line(
    org: Organisation, line: LineItem, item: dict[str, Any], inv: Invoice, *, new: bool = False
) -> None:
    if item.get("Description") is not None:
        line.description = str(item["Description"])
    if item.get("ItemCode") is not None:
        line.item_code = str(item["ItemCode"]) or None
    if item.get("Quantity") is not None:
        line.quantity = to_decimal(item["Quantity"], "Quantity")
    if item.get("UnitAmount") is not None:
        line.unit_amount = cents(to_decimal(item["UnitAmount"], "UnitAmount"))
    if item.get("DiscountRate") is not None:
        line.discount_rate = to_decimal(item["DiscountRate"], "DiscountRate")
    if item.get("AccountCode") is not None:
        line.account_code = str(item["AccountCode"])
    if item.get("TaxType") is not None:
        line.tax_type = str(item["TaxType"])
    if item.get("LineAmount") is not None:
        given = cents(to_decimal(item["LineAmount"], "LineAmount"))
        if item.get("UnitAmount") is None and (new or item.get("Quantity") is not None):
            qty = line.quantity or Decimal(1)
            line.unit_amount = cents(given / qty)
        expected = line_amount(line)
        if given != expected:
            raise Invalid(
                f"The line total {given} does not match the expected line total {expected}"
            )
    if new and not line.description and not line.item_code:
        raise Invalid("Description is required for a line item")
    region = org.region
    if line.account_code:
        account = region.account(line.account_code)
        if account is None or account.code in NOT_FOR_LINES:
            raise Invalid(
                f"Account code '{line.account_code}' is not a valid code for this document."
            )
        if account.status != "ACTIVE":
            raise Invalid(
                f"The AccountCode '{line.account_code}' has been archived, or deleted. "
                "Each line item must reference a valid account."
            )
    if not line.tax_type:
        line.tax_type = default_tax(org, line, inv)
    allowed = region.sales_tax_types() if inv.type == "ACCREC" else region.purchase_tax_types()
    if inv.line_amount_types != "NoTax" and line.tax_type not in allowed:
        raise Invalid(
            f"The TaxType code '{line.tax_type}' does not exist or cannot be used "
            "for this type of transaction."
        )


def default_tax(org: Organisation, line: LineItem, inv: Invoice) -> str:
    region = org.region
    if inv.line_amount_types == "NoTax":
        return region.no_tax
    return region.sales_tax if inv.type == "ACCREC" else region.purchase_tax


def lines_signature(lines: list[LineItem]) -> list[tuple[object, ...]]:
    return [
        (
            ln.line_item_id,
            ln.description,
            ln.quantity,
            ln.unit_amount,
            ln.account_code,
            ln.tax_type,
            ln.item_code,
            ln.discount_rate,
        )
        for ln in lines
    ]


def line_record(line: LineItem) -> dict[str, Any]:
    return {
        "line_item_id": line.line_item_id,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_amount": text(line.unit_amount),
        "line_amount": text(line.line_amount),
        "tax_amount": text(line.tax_amount),
        "account_code": line.account_code,
        "tax_type": line.tax_type,
        "item_code": line.item_code,
    }


def line_amount_types_of(value: object, default: str) -> str:
    if value is None or value == "":
        return default
    for candidate in LINE_AMOUNT_TYPES:
        if str(value).lower() == candidate.lower():
            return candidate
    raise Invalid(f"LineAmountTypes '{value}' is not valid")


def check_ready(inv: Invoice) -> None:
    """Approval needs what Xero needs before it will post to the ledger."""
    if inv.status == "DRAFT":
        return
    if not inv.line_items:
        raise Invalid("Invoices must have at least one line item to be approved")
    if inv.due_date is None:
        raise Invalid("Due Date is required.")
    for line in inv.line_items:
        if not line.account_code:
            raise Invalid("AccountCode is required on every line item of an approved invoice")
