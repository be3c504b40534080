"""``compensation``: the fixed-sum compensation of the late-payment laws, claimed once
with the first interest claim (``policies.steps``); never configured as a step action."""

from __future__ import annotations

from policies.actions import ActionKind
from policies.kinds.base import KindSpec, ReviewClass
from policies.kinds.registry import register

SPEC = register(
    KindSpec(
        name=ActionKind.COMPENSATION,
        order=20,
        review_class=ReviewClass.CHARGE,
        money_tally="compensation",
    )
)
