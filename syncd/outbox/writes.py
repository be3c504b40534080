"""What a provider write says: the note's text and the fee line's description and amount.

One place for both the executor and ``syncd preview``, so a preview shows exactly what the
executor would write.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import LateFee

from ..store.queries import money_text

FEE_KINDS = {"late_fee", "interest", "compensation"}
FEE_LABELS = {
    "late_fee": "Late fee",
    "interest": "Statutory interest",
    "compensation": "Fixed-sum compensation",
}


def note_text(payload: dict[str, Any]) -> str:
    return str(payload.get("text") or payload["reason"])


def fee_line(kind: str, payload: dict[str, Any]) -> LateFee:
    """The line added to the invoice for a late fee, interest or compensation action.

    The customer reads it on their invoice (and in a demand letter's statement), so it says
    what the charge is and how it was worked out, from the plan's ``text``; never the
    ``reason``, which names the policy and the step and is written for the bookkeeper.
    """
    amount = Decimal(str(payload["amount"]))
    currency = str(payload["currency"])
    label = FEE_LABELS[kind]
    return LateFee(amount, currency, f"{label}: {_text(kind, payload)}"[:300])


def _text(kind: str, payload: dict[str, Any]) -> str:
    if payload.get("text"):
        return str(payload["text"])
    # Planned before charges carried their own text: a late fee's reason is its text after
    # the policy's name; an interest or compensation reason is the step's, so the amount.
    reason, policy = str(payload["reason"]), f"{payload.get('policy')}: "
    if kind == "late_fee" and reason.startswith(policy):
        return reason.removeprefix(policy)
    return money_text(Decimal(str(payload["amount"])), str(payload["currency"]))
