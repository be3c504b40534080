"""The mapper's constructors for records it has already checked: shared with the Xero
connector, so they live in :mod:`connectors.kit.trusted` (see there for why they are safe)."""

from __future__ import annotations

from connectors.kit.trusted import (
    allocation,
    customer_record,
    invoice_line,
    invoice_record,
    payment_record,
)

__all__ = ["allocation", "customer_record", "invoice_line", "invoice_record", "payment_record"]
