"""Line and document totals under Xero's three LineAmountTypes.

Tax is worked out per line and rounded to the cent there, then summed, which
is what Xero shows by default (tax rounding per line item).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from .models import CreditNote, Invoice, LineItem
from .money import TAX_RATES, ZERO, cents

HUNDRED = Decimal("100")


def line_amount(line: LineItem) -> Decimal:
    gross = line.quantity * line.unit_amount
    if line.discount_rate:
        gross = gross * (HUNDRED - line.discount_rate) / HUNDRED
    return cents(gross)


def price_line(
    line: LineItem, line_amount_types: str, rates: Mapping[str, Decimal] = TAX_RATES
) -> None:
    """Set LineAmount and TaxAmount on ``line`` in place (``rates``: the org's tax rates)."""
    line.line_amount = line_amount(line)
    if line_amount_types == "NoTax":
        line.tax_type = "NONE" if "NONE" in rates else "BASEXCLUDED"
        line.tax_amount = ZERO
        return
    rate = rates[line.tax_type]
    if line_amount_types == "Inclusive":
        line.tax_amount = cents(line.line_amount * rate / (1 + rate))
    else:
        line.tax_amount = cents(line.line_amount * rate)


def document_totals(
    lines: Iterable[LineItem], line_amount_types: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total) for already-priced lines."""
    amounts = list(lines)
    tax = sum((ln.tax_amount for ln in amounts), ZERO)
    gross = sum((ln.line_amount for ln in amounts), ZERO)
    if line_amount_types == "Inclusive":
        return cents(gross - tax), cents(tax), cents(gross)
    return cents(gross), cents(tax), cents(gross + tax)


def reprice_invoice(invoice: Invoice, rates: Mapping[str, Decimal] = TAX_RATES) -> None:
    for line in invoice.line_items:
        price_line(line, invoice.line_amount_types, rates)
    invoice.sub_total, invoice.total_tax, invoice.total = document_totals(
        invoice.line_items, invoice.line_amount_types
    )


def reprice_credit_note(note: CreditNote, rates: Mapping[str, Decimal] = TAX_RATES) -> None:
    for line in note.line_items:
        price_line(line, note.line_amount_types, rates)
    note.sub_total, note.total_tax, note.total = document_totals(
        note.line_items, note.line_amount_types
    )
