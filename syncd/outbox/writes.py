"""What a provider write says: the note's text and the fee line's description and amount.

One place for both the executor and ``syncd preview``, so a preview shows exactly what the
executor would write.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import LateFee

FEE_KINDS = {"late_fee", "interest", "compensation"}
FEE_LABELS = {
    "late_fee": "Late fee",
    "interest": "Statutory interest",
    "compensation": "Fixed-sum compensation",
}


def note_text(payload: dict[str, Any]) -> str:
    return str(payload.get("text") or payload["reason"])


def fee_line(kind: str, payload: dict[str, Any]) -> LateFee:
    """The line added to the invoice for a late fee, interest or compensation action."""
    amount = Decimal(str(payload["amount"]))
    currency = str(payload["currency"])
    return LateFee(amount, currency, f"{FEE_LABELS[kind]}: {payload['reason']}"[:300])
