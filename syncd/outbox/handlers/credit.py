"""``credit``: a met settlement's credit note for the rest of the invoice, applied to it in
the accounting system (``Connector.apply_credit``), exactly once.

Not a plain :class:`ProviderWrite`: after a crash between the provider's answer and the
commit the invoice reads as paid, and the executor's fresh read would skip the row although
the credit is there. ``apply_settlement_credit`` asks the connector for its own tagged credit
note first (see ``syncd.plans.credit``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...crashpoints import crashpoint
from ...plans.credit import NothingToCredit, apply_settlement_credit
from ...store.models import OutboxAction
from .base import ExecContext, Handler, PreviewContext, Rendered, Skip
from .registry import register


class CreditHandler(Handler):
    kind = "credit"

    def execute(self, ex: ExecContext, row: OutboxAction) -> dict[str, Any]:
        if row.invoice_provider_id is None:
            raise Skip("a credit action without an invoice")
        crashpoint("executor.before_provider")
        try:
            result = apply_settlement_credit(
                ex.connector, row.invoice_provider_id, row.payload, row.idempotency_key
            )
        except NothingToCredit as exc:
            raise Skip(str(exc)) from None
        crashpoint("credit.after_provider")
        crashpoint("executor.after_provider")
        if result.invoice is not None:
            ex.apply_invoice(result.invoice)
        return {"remote_id": result.remote_id, "result": {"detail": result.detail}}

    def preview(self, pv: PreviewContext, row: OutboxAction, out: Rendered) -> None:
        p = row.payload
        out.detail = (
            f"credit note of up to {Decimal(str(p['at_most']))} {p['currency']} applied to "
            f"the invoice (the amount it still owes): {p['reference']}"
        )


HANDLER = register(CreditHandler())
