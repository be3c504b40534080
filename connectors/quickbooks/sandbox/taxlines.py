"""Sales tax and the line types beyond plain item lines: discounts, groups (bundles).

* US companies use automated sales tax: lines say ``TAX`` or ``NON``; the rate is the
  combined rate of the customer's state (the company's own state when the address has none),
  reported in ``TxnTaxDetail`` with one ``TaxLine``.
* Other companies (GB, CA) must put an active ``TaxCodeRef`` on every item line; a line without
  one is refused with Intuit's error (code 6000, "Make sure all your transactions have a VAT
  rate before you save." - "GST/HST" in Canada), as reported by API users.
* ``DiscountLineDetail``: an amount or a percentage of the item lines, taken off before tax is
  added; tax is computed on the undiscounted lines (``ApplyTaxAfterDiscount`` false).
* ``GroupLineDetail``: a bundle item expanded into its item lines; the group line itself
  carries no ``Amount`` (the unfavourable reading: a client must add up the inner lines).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import faults
from .catalog import ITEMS
from .lists import BUNDLE_ITEM, TAX_CODES, US_STATE_RATES
from .money import ZERO, money, quantity

if TYPE_CHECKING:
    from .books import Books

JSON = dict[str, Any]

_RATE_WORD = {"GB": "VAT", "CA": "GST/HST"}
DISCOUNT_ACCOUNT = {"value": "86", "name": "Discounts given"}
COMPANY_STATE = "CA"


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("value")
    return None if value in (None, "") else str(value)


def tax_code(company: Books, detail_in: JSON) -> str:
    """The line's TaxCodeRef as QBO would store it, or the fault QBO answers with."""
    code = _ref(detail_in.get("TaxCodeRef"))
    if company.country == "US":
        code = code or "NON"
        if code not in ("TAX", "NON"):
            raise faults.invalid_reference(f"TaxCode {code}", "TaxCodeRef")
        return code
    if code is None:
        word = _RATE_WORD.get(company.country, "tax")
        raise faults.business_validation(
            f"Make sure all your transactions have a {word} rate before you save.", "TaxCodeRef"
        )
    known = {c.id: c for c in TAX_CODES.get(company.country, ())}
    if code not in known:
        raise faults.invalid_reference(f"TaxCode {code}", "TaxCodeRef")
    if not known[code].active:
        raise faults.business_validation(
            f"The tax code {known[code].name} is inactive. Choose an active tax code.",
            "TaxCodeRef",
        )
    return code


def discount_line(raw: JSON, line: JSON, gross: Decimal) -> Decimal:
    """Fill a discount line (percentages of ``gross``, the item lines so far); its amount."""
    detail_in = raw.get("DiscountLineDetail") or {}
    percent_based = bool(detail_in.get("PercentBased"))
    if percent_based:
        percent = quantity(detail_in.get("DiscountPercent") or 0)
        amount = money(gross * percent / 100)
    else:
        amount = money(quantity(raw.get("Amount") or 0))
    if amount < 0 or amount > gross:
        raise faults.invalid_value("Discount must be between 0 and the item lines' total")
    line["Amount"] = amount
    line["DetailType"] = "DiscountLineDetail"
    detail: JSON = {"PercentBased": percent_based}
    if percent_based:
        detail["DiscountPercent"] = percent
    detail["DiscountAccountRef"] = dict(DISCOUNT_ACCOUNT)
    line["DiscountLineDetail"] = detail
    return amount


def group_line(
    company: Books,
    raw: JSON,
    line: JSON,
    item_line: Callable[[JSON], JSON],
) -> Decimal:
    """Fill a bundle's group line from its sent inner lines or the bundle's definition."""
    detail_in = raw.get("GroupLineDetail") or {}
    bundle_id, bundle_name, parts = BUNDLE_ITEM
    if _ref(detail_in.get("GroupItemRef")) != bundle_id:
        raise faults.invalid_reference(
            f"Item assigned to this transaction: {_ref(detail_in.get('GroupItemRef'))}",
            "GroupItemRef",
        )
    qty = quantity(detail_in.get("Quantity") or 1)
    inner_in = detail_in.get("Line")
    if not isinstance(inner_in, list) or not inner_in:
        inner_in = []
        for part, part_qty in parts:
            item = ITEMS[part]
            inner_in.append(
                {
                    "Amount": money(item.unit_price * part_qty * qty),
                    "Description": item.description,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": part},
                        "Qty": part_qty * qty,
                        "UnitPrice": item.unit_price,
                        "TaxCodeRef": {"value": company.default_tax_code()},
                    },
                }
            )
    inner = [item_line(sub) for sub in inner_in]
    line["DetailType"] = "GroupLineDetail"
    line["GroupLineDetail"] = {
        "GroupItemRef": {"value": bundle_id, "name": bundle_name},
        "Quantity": qty,
        "Line": inner,
    }
    return sum((sub["Amount"] for sub in inner), ZERO)


def _item_lines(lines: list[JSON]) -> list[JSON]:
    out: list[JSON] = []
    for line in lines:
        if line.get("DetailType") == "SalesItemLineDetail":
            out.append(line)
        elif line.get("DetailType") == "GroupLineDetail":
            out.extend(line["GroupLineDetail"]["Line"])
    return out


def tax_detail(company: Books, lines: list[JSON], customer: JSON | None) -> tuple[JSON, Decimal]:
    """``TxnTaxDetail`` for the lines and the tax it adds to the total."""
    taxed: dict[str, tuple[Decimal, Decimal]] = {}  # rate id -> (percent, net taxable)
    for line in _item_lines(lines):
        code = line["SalesItemLineDetail"].get("TaxCodeRef", {}).get("value", "NON")
        if company.country == "US":
            if code != "TAX":
                continue
            address = (customer or {}).get("BillAddr") or {}
            state = str(address.get("CountrySubDivisionCode") or COMPANY_STATE)
            percent = US_STATE_RATES.get(state, US_STATE_RATES[COMPANY_STATE])
            rate_id = state
        else:
            found = next((c for c in TAX_CODES[company.country] if c.id == code), None)
            if found is None:
                continue
            percent, rate_id = found.rate, code
        before = taxed.get(rate_id, (percent, ZERO))[1]
        taxed[rate_id] = (percent, before + line["Amount"])
    tax_lines: list[JSON] = []
    total = ZERO
    for rate_id, (percent, net) in sorted(taxed.items()):
        amount = money(net * percent / 100)
        total += amount
        tax_lines.append(
            {
                "Amount": amount,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_id},
                    "PercentBased": True,
                    "TaxPercent": percent,
                    "NetAmountTaxable": net,
                },
            }
        )
    detail: JSON = {"TotalTax": total}
    if tax_lines:
        detail["TaxLine"] = tax_lines
    return detail, total
