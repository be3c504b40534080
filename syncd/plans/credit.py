"""The credit that closes a met settlement: how much, checked against the fresh invoice.

The amount is what the invoice still owes when the action runs (customers sometimes pay a
little more than agreed), and never more than the settlement set out to write off: a
larger balance means something changed since (a payment reversed, a charge added), and a
careful bookkeeper would look before crediting it, so the action fails with the reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import (
    ActionResult,
    Connector,
    Credit,
    InvoiceRecord,
    InvoiceStatus,
    PermanentError,
)

from ..store.queries import money_text


def settlement_credit(fresh: InvoiceRecord, payload: dict[str, Any]) -> Credit:
    at_most = Decimal(str(payload["at_most"]))
    currency = str(payload["currency"])
    if fresh.currency != currency:
        raise PermanentError(f"the settlement is in {currency}, the invoice in {fresh.currency}")
    if fresh.balance > at_most:
        raise PermanentError(
            f"the invoice still owes {money_text(fresh.balance, currency)}, more than the "
            f"settlement writes off ({money_text(at_most, currency)}): a payment may have been "
            "reversed or a charge "
            "added since; look at it before crediting"
        )
    return Credit(fresh.balance, currency, str(payload["reference"]))


class NothingToCredit(Exception):
    """The invoice was paid in full with no credit of ours on it: the action is skipped."""


def apply_settlement_credit(
    connector: Connector, invoice_id: str, payload: dict[str, Any], key: str
) -> ActionResult:
    """Credit the rest of the invoice, once. A zero balance means either our credit already
    closed it (a replay after a crash between the provider's answer and the commit: the
    connector finds its tagged credit note and says "already applied") or the customer paid
    in full; the connector checks for its own credit before anything else and refuses to
    write one larger than the amount due, so the second case writes nothing."""
    fresh = connector.fetch_invoice(invoice_id)
    if fresh is None:
        raise NothingToCredit(f"invoice {invoice_id} no longer exists at the provider")
    if fresh.balance > 0:
        if fresh.status is not InvoiceStatus.OPEN:
            raise NothingToCredit(f"invoice {invoice_id} is {fresh.status.value}")
        return connector.apply_credit(
            invoice_id, settlement_credit(fresh, payload), idempotency_key=key
        )
    probe = Credit(Decimal(str(payload["at_most"])), fresh.currency, str(payload["reference"]))
    try:
        found = connector.apply_credit(invoice_id, probe, idempotency_key=key)
    except PermanentError:
        raise NothingToCredit(
            f"invoice {invoice_id} was paid in full: there is nothing left to credit"
        ) from None
    if found.detail != "already applied":  # pragma: no cover - the connector refuses first
        raise PermanentError("a credit was written on an invoice with nothing due")
    return found
