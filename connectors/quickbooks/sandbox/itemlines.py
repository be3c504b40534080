"""Transaction lines as QBO stores them: item lines, discounts, the subtotal and tax."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import faults, taxlines
from .books import Books
from .catalog import (
    DEFAULT_ITEM_ID,
    ITEMS,
)
from .jsontree import copy_json
from .money import ZERO, money, quantity
from .shapes import (
    JSON,
    _amount,
    _blank,
    _ref_value,
)


class ItemLines(Books):
    """Builds the ``Line`` array of invoices and credit memos."""

    def _item_line(self, raw: JSON, element: str = "Line") -> JSON:
        """A SalesItemLineDetail line as QBO stores it (without Id and LineNum)."""
        detail_in = raw.get("SalesItemLineDetail") or {}
        if not isinstance(detail_in, dict):
            raise faults.invalid_value("SalesItemLineDetail must be an object", element)
        item_ref = detail_in.get("ItemRef")
        item_id = DEFAULT_ITEM_ID if _blank(item_ref) else _ref_value(item_ref, "ItemRef")
        item = ITEMS.get(item_id)
        if item is None:
            raise faults.invalid_reference(
                f"Item assigned to this transaction: {item_id}", "ItemRef"
            )
        raw_qty = detail_in.get("Qty")
        qty = None if _blank(raw_qty) else quantity(raw_qty)
        raw_unit = detail_in.get("UnitPrice")
        unit = None if _blank(raw_unit) else quantity(raw_unit)
        raw_amount = raw.get("Amount")
        if _blank(raw_amount):
            if qty is None or unit is None:
                raise faults.required_param(
                    "Required parameter Line.Amount is missing in the request",
                    "Line.Amount",
                )
            amount = money(qty * unit)
        else:
            amount = _amount(raw_amount, "Line.Amount")
        if qty and unit and money(qty * unit) != amount:
            raise faults.validation(
                "6070",
                "Amount is not equal to UnitPrice * Qty",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                "Line.Amount",
            )
        line: JSON = {}
        description = raw.get("Description")
        if not _blank(description):
            line["Description"] = str(description)
        line["Amount"] = amount
        linked = raw.get("LinkedTxn")
        if isinstance(linked, list) and linked:
            line["LinkedTxn"] = copy_json(linked)
        line["DetailType"] = "SalesItemLineDetail"
        detail: JSON = {"ItemRef": {"value": item.id, "name": item.name}}
        if unit is not None and unit != 0:
            detail["UnitPrice"] = unit
        if qty is not None and qty != 0:
            detail["Qty"] = qty
        detail["ItemAccountRef"] = {"value": item.account_id, "name": item.account_name}
        detail["TaxCodeRef"] = {"value": taxlines.tax_code(self, detail_in)}
        service_date = detail_in.get("ServiceDate")
        if not _blank(service_date):
            detail["ServiceDate"] = str(service_date)
        line["SalesItemLineDetail"] = detail
        line["CustomExtensions"] = []
        return line

    def _build_lines(
        self,
        raw_lines: Any,
        previous: list[JSON] | None,
        *,
        element: str = "Line",
        customer: JSON | None = None,
    ) -> tuple[list[JSON], Decimal, list[JSON]]:
        """Turn request lines into stored lines; returns (lines, total, newly added lines).

        The total is item lines less discounts plus tax; ``self.last_tax_detail`` holds the
        ``TxnTaxDetail`` that goes with it.
        """
        if not isinstance(raw_lines, list):
            raise faults.invalid_value("Line must be a list", element)
        old_by_id = {line["Id"]: line for line in previous or [] if "Id" in line}
        next_id = (
            max((int(i) for i in old_by_id if str(i).isdigit()), default=0) + 1 if old_by_id else 1
        )
        lines: list[JSON] = []
        added: list[JSON] = []
        subtotal = ZERO
        discount = ZERO
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise faults.invalid_value("Line entries must be objects", element)
            detail_type = raw.get("DetailType")
            if detail_type == "SubTotalLineDetail":
                continue  # recomputed below, as QBO does
            raw_id = raw.get("Id")
            line_id = str(raw_id) if not _blank(raw_id) and str(raw_id) in old_by_id else None
            if line_id is None:
                line_id = str(next_id)
                next_id += 1
                is_new = True
            else:
                is_new = False
            line: JSON = {"Id": line_id, "LineNum": len(lines) + 1}
            if detail_type == "SalesItemLineDetail":
                line.update(self._item_line(raw, element))
                subtotal += line["Amount"]
            else:
                subtotal, discount = self._other_line(raw, line, subtotal, discount)
            lines.append(line)
            if is_new:
                added.append(line)
        if not any(
            line.get("DetailType") in ("SalesItemLineDetail", "GroupLineDetail") for line in lines
        ):
            raise faults.business_validation("You must fill out at least one split line.", "Line")
        lines.append(
            {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        )
        self.last_tax_detail, tax = taxlines.tax_detail(self, lines, customer)
        return lines, subtotal - discount + tax, added

    def _other_line(
        self, raw: JSON, line: JSON, subtotal: Decimal, discount: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Fill a group, discount or description line; returns the new (subtotal, discount)."""
        detail_type = raw.get("DetailType")
        if detail_type == "GroupLineDetail":
            subtotal += taxlines.group_line(self, raw, line, self._item_line)
        elif detail_type == "DiscountLineDetail":
            discount += taxlines.discount_line(raw, line, subtotal - discount)
        elif detail_type in ("DescriptionOnly", "DescriptionLineDetail"):
            if not _blank(raw.get("Description")):
                line["Description"] = str(raw["Description"])
            line["DetailType"] = "DescriptionOnly"
            line["DescriptionLineDetail"] = {}
        else:
            raise faults.invalid_value(
                f"Line DetailType {detail_type!r} is not supported by the sandbox "
                "(SalesItemLineDetail, GroupLineDetail, DiscountLineDetail, "
                "DescriptionOnly, SubTotalLineDetail)",
                "Line.DetailType",
            )
        return subtotal, discount
