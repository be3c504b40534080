"""Prepayments and overpayments received from customers, pulled as payments.

Money a customer paid ahead of an invoice (a deposit) or beyond it (an overpayment) reduces
the invoices it is allocated to exactly as a payment does: Xero counts it in the invoice's
``AmountCredited``. syncd keeps each one as a :class:`~connectors.base.PaymentRecord` of kind
``payment`` whose allocations are the invoices it was applied to and whose ``unapplied`` is
Xero's ``RemainingCredit``, so an invoice settled by a deposit is seen to be settled by money
received, and unallocated credit is visible per customer. Supplier-side ones (``SPEND-*``,
``AP*``) are not a customer's money and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import Allocation, Deletion, EntityKind, PaymentKind, PaymentRecord

from . import mapping
from .positions import ORDER, Listing, listing_of

if TYPE_CHECKING:
    from .client import XeroConnector

STREAMS = ("prepayments", "overpayments")
COLLECTION = {"prepayments": "Prepayments", "overpayments": "Overpayments"}
ID_FIELD = {"prepayments": "PrepaymentID", "overpayments": "OverpaymentID"}
_RECEIVED = {
    "prepayments": ("RECEIVE-PREPAYMENT", "ARPREPAYMENT"),
    "overpayments": ("RECEIVE-OVERPAYMENT", "AROVERPAYMENT"),
}


def _record(stream: str) -> Callable[[Mapping[str, Any], str | None, str | None], Any]:
    def convert(
        raw: Mapping[str, Any], home: str | None, raw_json: str | None = None
    ) -> PaymentRecord | Deletion | None:
        kind = mapping._text(raw.get("Type"))
        if kind is not None and kind not in _RECEIVED[stream]:
            return None
        provider_id = mapping._require_id(raw, ID_FIELD[stream])
        updated = mapping.parse_datetime(raw.get("UpdatedDateUTC"))
        if str(raw.get("Status") or "").upper() in ("VOIDED", "DELETED"):
            return Deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.PAYMENT)
        allocations: list[Allocation] = []
        for alloc in raw.get("Allocations") or []:
            if not isinstance(alloc, Mapping):
                raise mapping.MappingError("Allocations holds something that is not one")
            invoice_id = mapping._nested_id(alloc, "Invoice", "InvoiceID")
            if invoice_id is None:
                raise mapping.MappingError("an allocation has no Invoice.InvoiceID")
            allocations.append(Allocation(invoice_id, mapping.money(alloc, "Amount")))
        total = mapping.money(raw, "Total")
        return PaymentRecord(
            provider_id=provider_id,
            kind=PaymentKind.PAYMENT,
            customer_provider_id=mapping._nested_id(raw, "Contact", "ContactID"),
            date=mapping.parse_date(raw.get("Date"), "Date"),
            currency=mapping._currency(raw.get("CurrencyCode"), home),
            amount=total,
            unapplied=mapping.money(raw, "RemainingCredit", total),
            updated_at=updated,
            allocations=tuple(allocations),
            raw=raw,
            raw_json=raw_json,
        )

    return convert


MAPPERS = {stream: _record(stream) for stream in STREAMS}


def getter(connector: XeroConnector, stream: str) -> Callable[..., Any]:
    api = connector.api
    fetch: Callable[..., Any] = (
        api.get_prepayments if stream == "prepayments" else api.get_overpayments
    )
    return fetch


def list_rows(connector: XeroConnector, stream: str, since: datetime | None, page: int) -> Listing:
    """One page of a prepayment or overpayment stream, in UpdatedDateUTC order."""
    kwargs: dict[str, Any] = {
        "order": ORDER,
        "page": page,
        "page_size": connector.options.page_size,
        "_preload_content": False,
    }
    if since is not None:
        kwargs["if_modified_since"] = since
    fetch, tenant = getter(connector, stream), connector.tenant_id
    body = connector._body(lambda: fetch(tenant, **kwargs), COLLECTION[stream])
    return listing_of(body, page, connector.options.page_size)
