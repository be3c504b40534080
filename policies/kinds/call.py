"""``call``: a task for a person to phone the customer about the invoice.

The task (who to call, the number the provider has, the open invoices, the amount and the
history so far) is made by the executor's handler from the store; the engine only decides
that the step's call is due. What the person records (``syncd tasks done``) feeds back as
holds: a promise pauses dunning until its date, a dispute stops it.
"""

from __future__ import annotations

from string import Template
from typing import Literal

from policies.actions import step_key
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass, StepPlan
from policies.kinds.note import substitutions
from policies.kinds.registry import register

KIND = "call"


class CallAction(ActionConfig):
    """A call task; ``instructions`` (optional) is shown to the caller, with ``$number``,
    ``$days_overdue``, ``$balance``, ``$due_date``, ``$customer`` substituted."""

    kind: Literal["call"]
    instructions: str | None = None


def _plan(p: StepPlan) -> None:
    assert isinstance(p.action, CallAction)
    ctx = p.ctx
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, KIND)
    text = p.action.instructions
    data = {"instructions": Template(text).safe_substitute(substitutions(p)) if text else None}
    why = f"{p.why}; a call task is created for a person"
    p.built.actions.append(ctx.action(KIND, p.fire.id, why, key, data=data))


def _describe(_policy: object, action: ActionConfig, _days: int) -> str:
    assert isinstance(action, CallAction)
    text = "a call task for a person (the customer's phone number from the provider)"
    return text + (f": {action.instructions!r}" if action.instructions else "")


SPEC = register(
    KindSpec(
        name=KIND,
        order=55,
        # the task itself reaches no one: a person decides whether and how to call
        review_class=ReviewClass.INTERNAL,
        config=CallAction,
        plan_step=_plan,
        describe=_describe,
        tally="calls",
    )
)
