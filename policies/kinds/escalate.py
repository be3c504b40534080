"""``escalate``: final demand, marked for letter / collections / legal review; automatic
dunning of the invoice stops."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from policies.actions import ActionKind, step_key
from policies.kinds.base import ActionConfig, EscalationLevel, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register


class EscalateAction(ActionConfig):
    """Final demand: mark for letter / collections / legal review; stops automatic dunning."""

    kind: Literal["escalate"]
    level: EscalationLevel


def _plan(p: StepPlan) -> None:
    assert isinstance(p.action, EscalateAction)
    ctx, level = p.ctx, p.action.level
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, ActionKind.ESCALATE)
    text = f"{p.why}; escalated for {level.value} review, automatic reminders stop"
    p.built.actions.append(ctx.action(ActionKind.ESCALATE, p.fire.id, text, key, level=level))
    p.built.state = replace(p.built.state, escalation=level, stopped_on=ctx.today)


def _describe(_policy: object, action: ActionConfig, _days: int) -> str:
    assert isinstance(action, EscalateAction)
    return f"escalate for {action.level.value} review and stop automatic reminders"


SPEC = register(
    KindSpec(
        name=ActionKind.ESCALATE,
        order=60,
        review_class=ReviewClass.ESCALATION,
        config=EscalateAction,
        plan_step=_plan,
        describe=_describe,
        tally="escalations",
    )
)
