"""``provider_email``: ask the accounting system to (re)send the invoice itself."""

from __future__ import annotations

from typing import Literal

from policies.actions import ActionKind, step_key
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register


class ProviderEmailAction(ActionConfig):
    """Ask the accounting system to (re)send the invoice itself."""

    kind: Literal["provider_email"]


def _plan(p: StepPlan) -> None:
    ctx = p.ctx
    if "email" in p.fire.kinds():
        ctx.reasons.append(
            "the invoice copy from the accounting system is not sent: the step's "
            "reminder email already goes to the customer this morning"
        )
        return
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, ActionKind.PROVIDER_EMAIL)
    p.built.actions.append(ctx.action(ActionKind.PROVIDER_EMAIL, p.fire.id, p.why, key))


SPEC = register(
    KindSpec(
        name=ActionKind.PROVIDER_EMAIL,
        order=30,
        review_class=ReviewClass.CONTACT,
        config=ProviderEmailAction,
        plan_step=_plan,
        states_claims=True,
        describe=lambda _p, _a, _d: "re-send the invoice from the accounting system",
        tally="provider_emails",
    )
)
