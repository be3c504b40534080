"""``stop``: stop all automatic dunning of the invoice."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from policies.actions import ActionKind, step_key
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register


class StopAction(ActionConfig):
    """Stop all automatic dunning of the invoice."""

    kind: Literal["stop"]


def _plan(p: StepPlan) -> None:
    ctx = p.ctx
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, ActionKind.STOP)
    text = f"{p.why}; automatic dunning stops"
    p.built.actions.append(ctx.action(ActionKind.STOP, p.fire.id, text, key))
    p.built.state = replace(p.built.state, stopped_on=ctx.today)


SPEC = register(
    KindSpec(
        name=ActionKind.STOP,
        order=70,
        review_class=ReviewClass.INTERNAL,
        config=StopAction,
        plan_step=_plan,
        describe=lambda _p, _a, _d: "stop automatic dunning",
        tally="stops",
    )
)
