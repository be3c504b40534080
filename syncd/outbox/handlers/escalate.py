"""``escalate``: marks the invoice's stored dunning state as escalated (letter /
collections / legal review); nothing is sent or written to the ledger."""

from __future__ import annotations

from ...store.models import DunningState as DunningStateRow
from ...store.models import OutboxAction
from .base import LocalHandler
from .registry import register


class EscalateHandler(LocalHandler):
    kind = "escalate"

    def record(self, state: DunningStateRow, row: OutboxAction) -> None:
        state.escalated = str(row.payload.get("level") or "letter")


HANDLER = register(EscalateHandler())
