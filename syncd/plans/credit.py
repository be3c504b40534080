"""The credit that closes a met settlement: how much, checked against the fresh invoice.

The amount is what the invoice still owes when the action runs (customers sometimes pay a
little more than agreed), and never more than the settlement set out to write off: a
larger balance means something changed since (a payment reversed, a charge added), and a
careful bookkeeper would look before crediting it, so the action fails with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import Credit, InvoiceRecord, PermanentError


def settlement_credit(fresh: InvoiceRecord, payload: dict[str, Any]) -> Credit:
    at_most = Decimal(str(payload["at_most"]))
    currency = str(payload["currency"])
    if fresh.currency != currency:
        raise PermanentError(f"the settlement is in {currency}, the invoice in {fresh.currency}")
    if fresh.balance > at_most:
        raise PermanentError(
            f"the invoice still owes {fresh.balance} {currency}, more than the settlement "
            f"writes off ({at_most} {currency}): a payment may have been reversed or a charge "
            "added since; look at it before crediting"
        )
    return Credit(fresh.balance, currency, str(payload["reference"]))
