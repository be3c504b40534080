"""The pieces of seeded rows built the same way every time, and the objects rows share.

Stored rows are copy-on-write below their top level (``shapes._clone``): no write changes a
row's references in place, so the bulk writer (seedwriter.py) gives every row naming the same
item, account, term, tax code or deposit account one shared object, and a hundred thousand
invoices allocate a few dozen of them instead of a million.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .catalog import DEPOSIT_ACCOUNT_ID, ITEMS, TERMS
from .jsontree import copy_json
from .money import ZERO, money
from .shapes import JSON
from .taxlines import tax_detail

if TYPE_CHECKING:
    from .books import Books

#: One invoice line as the seed plans it: item id, quantity, unit price, amount.
PlannedLine = tuple[str, Decimal, Decimal, Decimal]

#: Shared objects: per item its ItemRef and ItemAccountRef, per term its SalesTermRef, per
#: tax code its TaxCodeRef; the deposit account, an untaxed invoice's TxnTaxDetail and the
#: empty SubTotalLineDetail.
ITEM_REFS = {
    item.id: (
        {"value": item.id, "name": item.name},
        {"value": item.account_id, "name": item.account_name},
    )
    for item in ITEMS.values()
}
TERM_REFS = {term.id: {"value": term.id, "name": term.name} for term in TERMS.values()}
TAX_REFS: dict[str, JSON] = {}
DEPOSIT_ACCOUNT_REF: JSON = {"value": DEPOSIT_ACCOUNT_ID}
UNTAXED: JSON = {"TotalTax": ZERO}
NOTHING: JSON = {}


def item_line(number: int, raw: JSON, us: bool) -> tuple[JSON, str]:
    """A seeded SalesItemLineDetail line as ``ItemLines._build_lines`` stores it (its
    ``_item_line`` after the Id and LineNum), and its tax code."""
    detail_in = raw["SalesItemLineDetail"]
    item_ref, account_ref = ITEM_REFS[detail_in["ItemRef"]["value"]]
    detail: JSON = {"ItemRef": item_ref}
    unit, qty = detail_in.get("UnitPrice"), detail_in.get("Qty")
    if unit:
        detail["UnitPrice"] = unit
    if qty:
        detail["Qty"] = qty
    detail["ItemAccountRef"] = account_ref
    code = (detail_in.get("TaxCodeRef") or {}).get("value") or ("NON" if us else None)
    if code is None:  # the rules would refuse it (a VAT or GST/HST rate is required)
        raise ValueError(f"a seeded line of a non-US company has no tax code: {raw!r}")
    tax_ref = TAX_REFS.get(code)
    if tax_ref is None:
        tax_ref = TAX_REFS[code] = {"value": code}
    detail["TaxCodeRef"] = tax_ref
    line: JSON = {
        "Id": str(number),
        "LineNum": number,
        "Description": str(raw["Description"]),
        "Amount": money(raw["Amount"]),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
        "CustomExtensions": [],
    }
    return line, code


def planned_item_line(number: int, planned: PlannedLine, code: str) -> JSON:
    """What :func:`item_line` stores for the request line the seed would build from
    ``planned`` with tax code ``code``, without building that request line first. The planned
    amount is already ``money``'s (the planner quantised it), so it is stored as it is."""
    item_id, qty, unit, amount = planned
    item_ref, account_ref = ITEM_REFS[item_id]
    detail: JSON = {"ItemRef": item_ref}
    if unit:
        detail["UnitPrice"] = unit
    if qty:
        detail["Qty"] = qty
    detail["ItemAccountRef"] = account_ref
    tax_ref = TAX_REFS.get(code)
    if tax_ref is None:
        tax_ref = TAX_REFS[code] = {"value": code}
    detail["TaxCodeRef"] = tax_ref
    return {
        "Id": str(number),
        "LineNum": number,
        "Description": ITEMS[item_id].description,
        "Amount": amount,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
        "CustomExtensions": [],
    }


def planned_lines(
    company: Books, planned: list[PlannedLine], codes: list[str], customer: JSON
) -> tuple[list[JSON], Decimal, JSON]:
    """The stored lines, total and TxnTaxDetail (``SeedWriter._lines``) of a request whose
    lines are the item lines ``planned`` with tax codes ``codes``."""
    lines = [
        planned_item_line(number, line, code)
        for number, (line, code) in enumerate(zip(planned, codes, strict=True), 1)
    ]
    subtotal = sum([line["Amount"] for line in lines], ZERO)
    lines.append(
        {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": NOTHING}
    )
    # A US invoice none of whose lines says TAX owes no sales tax: most of them.
    if company.country != "US" or any(code != "NON" for code in codes):
        detail, tax = tax_detail(company, lines, customer)
    else:
        detail, tax = UNTAXED, ZERO
    company.last_tax_detail = detail
    return lines, subtotal - ZERO + tax, detail  # ``subtotal - discount + tax``, no discount


def flat_copy(value: JSON) -> JSON:
    """``copy_json`` for the flat dicts of text the seed writes, without a call per key."""
    copied = dict(value)
    for item in copied.values():
        if type(item) is not str:
            result: JSON = copy_json(value)
            return result
    return copied
