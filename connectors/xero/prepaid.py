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

from connectors.base import Deletion, EntityKind, PaymentKind, PaymentRecord
from connectors.kit import trusted

from . import mapping, shapes
from .positions import ORDER, Listing, listing_of
from .values import parse_datetime, require_id, text

if TYPE_CHECKING:
    from .client import XeroConnector

STREAMS = ("prepayments", "overpayments")
COLLECTION = {"prepayments": "Prepayments", "overpayments": "Overpayments"}
ID_FIELD = {"prepayments": "PrepaymentID", "overpayments": "OverpaymentID"}
Mapper = Callable[
    [shapes.Document, str | None, Mapping[str, Any], str | None], PaymentRecord | Deletion | None
]
_RECEIVED = {
    "prepayments": ("RECEIVE-PREPAYMENT", "ARPREPAYMENT"),
    "overpayments": ("RECEIVE-OVERPAYMENT", "AROVERPAYMENT"),
}


def _record(stream: str) -> Mapper:
    def convert(
        rec: shapes.Document, home: str | None, raw: Mapping[str, Any], raw_json: str | None
    ) -> PaymentRecord | Deletion | None:
        kind = text(rec.Type)
        if kind is not None and kind not in _RECEIVED[stream]:
            return None
        provider_id = require_id(getattr(rec, ID_FIELD[stream]), ID_FIELD[stream])
        updated = parse_datetime(rec.UpdatedDateUTC)
        if str(rec.Status or "").upper() in ("VOIDED", "DELETED"):
            return trusted.deletion(EntityKind.PAYMENTS, provider_id, updated, PaymentKind.PAYMENT)
        fields = mapping.held_money(rec, provider_id, home, PaymentKind.PAYMENT)
        return trusted.payment_record(**fields, raw=raw, raw_json=raw_json)

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
