"""The pieces of seeded rows built the same way every time, and the objects rows share.

Stored rows are copy-on-write below their top level (``shapes._clone``): no write changes a
row's references in place, so the bulk writer (seedwriter.py) gives every row naming the same
item, account, term, tax code or deposit account one shared object, and a hundred thousand
invoices allocate a few dozen of them instead of a million.
"""

from __future__ import annotations

from .catalog import DEPOSIT_ACCOUNT_ID, ITEMS, TERMS
from .jsontree import copy_json
from .money import ZERO, money
from .shapes import JSON

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


def flat_copy(value: JSON) -> JSON:
    """``copy_json`` for the flat dicts of text the seed writes, without a call per key."""
    copied = dict(value)
    for item in copied.values():
        if type(item) is not str:
            result: JSON = copy_json(value)
            return result
    return copied
