"""``escalate``: marks the invoice's stored dunning state as escalated (letter /
collections / legal review). When the policy's step asks for a letter
(``letter = "demand" | "pre-action-ew"``), it also makes the letter, queues the email that
carries it and notes it on the invoices (``syncd.letters.handler``)."""

from __future__ import annotations

from typing import Any

from ...letters.handler import execute_letter
from ...letters.preview import preview_letter
from ...store.models import DunningState as DunningStateRow
from ...store.models import OutboxAction
from .base import ExecContext, LocalHandler, PreviewContext, Rendered, Skip
from .registry import register


class EscalateHandler(LocalHandler):
    kind = "escalate"

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        if not row.payload.get("letter"):
            return super().execute(ex, row)
        done = execute_letter(
            ex.store,
            ex.org_id,
            ex.connector,
            row,
            now=ex.now(),
            fresh=ex.fresh,
            is_skip=lambda exc: isinstance(exc, Skip),
        )
        super().execute(ex, row)
        return done

    def record(self, state: DunningStateRow, row: OutboxAction) -> None:
        state.escalated = str(row.payload.get("level") or "letter")

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        if not row.payload.get("letter"):
            super().preview(pv, row, out)
            return
        out.detail, out.problem = preview_letter(
            pv.store, pv.org_id, pv.org_name, row, pv.clock.now()
        )


HANDLER = register(EscalateHandler())
