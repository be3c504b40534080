"""``provider_email``: the accounting system emails the invoice itself
(``Connector.send_provider_email``)."""

from __future__ import annotations

from connectors.base import ActionResult, InvoiceRecord

from ...store.models import OutboxAction
from .base import ExecContext, PreviewContext, ProviderWrite, Rendered
from .registry import register


class ProviderEmailHandler(ProviderWrite):
    kind = "provider_email"

    def write(self, ex: ExecContext, row: OutboxAction, fresh: InvoiceRecord) -> ActionResult:
        assert row.invoice_provider_id is not None
        return ex.connector.send_provider_email(
            row.invoice_provider_id, to=None, idempotency_key=row.idempotency_key
        )

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        out.detail = "the provider sends its own invoice email to the customer's address"


HANDLER = register(ProviderEmailHandler())
