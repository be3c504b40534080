"""``credit``: a settlement's credit note for the rest of the invoice, applied to it in the
accounting system (``Connector.apply_credit``). Queued when a settlement is met; it always
waits for a human unless the org lists it in ``review_exempt``."""

from __future__ import annotations

from policies.kinds.base import KindSpec, ReviewClass
from policies.kinds.registry import register

SPEC = register(
    KindSpec(
        name="credit",
        order=84,
        review_class=ReviewClass.APPROVAL,
        describe_planned=lambda _a: "a credit note closing a settled invoice",
        money_tally="credits",
    )
)
