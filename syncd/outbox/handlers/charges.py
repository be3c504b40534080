"""``late_fee``, ``interest``, ``compensation``: a charge line on the invoice
(``Connector.add_charge``). Three kinds, one way of writing them: only the label of the
line differs (``syncd.outbox.writes.FEE_LABELS``)."""

from __future__ import annotations

from connectors.base import ActionResult, InvoiceRecord, PermanentError, WritesFromRead

from ...store.models import OutboxAction
from ..writes import fee_line
from .base import ExecContext, PreviewContext, ProviderWrite, Rendered
from .registry import register


class ChargeHandler(ProviderWrite):
    capability = "charge"

    def write(self, ex: ExecContext, row: OutboxAction, fresh: InvoiceRecord) -> ActionResult:
        assert row.invoice_provider_id is not None
        line = fee_line(row.kind, row.payload)
        if line.currency != fresh.currency:
            raise PermanentError(f"{row.kind} in {line.currency} on an invoice in {fresh.currency}")
        return ex.connector.add_charge(
            row.invoice_provider_id, line, idempotency_key=row.idempotency_key
        )

    def write_seen(self, ex: ExecContext, row: OutboxAction, seen: InvoiceRecord) -> ActionResult:
        assert isinstance(ex.connector, WritesFromRead)
        line = fee_line(row.kind, row.payload)
        if line.currency != seen.currency:
            raise PermanentError(f"{row.kind} in {line.currency} on an invoice in {seen.currency}")
        return ex.connector.add_charge_seen(
            seen, line, idempotency_key=row.idempotency_key, attempt=row.attempts
        )

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        out.fee = fee_line(row.kind, row.payload)


class LateFeeHandler(ChargeHandler):
    kind = "late_fee"


class InterestHandler(ChargeHandler):
    kind = "interest"


class CompensationHandler(ChargeHandler):
    kind = "compensation"


HANDLERS = (
    register(LateFeeHandler()),
    register(InterestHandler()),
    register(CompensationHandler()),
)
