"""``note``: a note on the invoice in the accounting system (``Connector.add_note``)."""

from __future__ import annotations

from connectors.base import ActionResult, InvoiceRecord, WritesFromRead

from ...store.models import OutboxAction
from ..writes import note_text
from .base import ExecContext, PreviewContext, ProviderWrite, Rendered
from .registry import register


class NoteHandler(ProviderWrite):
    kind = "note"
    capability = "note"

    def write(self, ex: ExecContext, row: OutboxAction, fresh: InvoiceRecord) -> ActionResult:
        assert row.invoice_provider_id is not None
        text = note_text(row.payload)
        return ex.connector.add_note(
            row.invoice_provider_id, text, idempotency_key=row.idempotency_key
        )

    def write_seen(self, ex: ExecContext, row: OutboxAction, seen: InvoiceRecord) -> ActionResult:
        assert isinstance(ex.connector, WritesFromRead)
        text = note_text(row.payload)
        return ex.connector.add_note_seen(
            seen, text, idempotency_key=row.idempotency_key, attempt=row.attempts
        )

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        out.note = note_text(row.payload)


HANDLER = register(NoteHandler())
