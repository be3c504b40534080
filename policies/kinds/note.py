"""``note``: a note on the invoice in the accounting system."""

from __future__ import annotations

from string import Template
from typing import Annotated, Literal

from pydantic import Field

from policies.actions import ActionKind, step_key
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register
from policies.money import Money


class NoteAction(ActionConfig):
    """A note on the invoice; ``$number``, ``$days_overdue``, ``$balance`` are substituted."""

    kind: Literal["note"]
    text: Annotated[str, Field(min_length=1)]


def substitutions(p: StepPlan) -> dict[str, str]:
    """The ``$name`` values a step's text may use."""
    inv = p.ctx.inv
    return {
        "number": inv.number,
        "days_overdue": str(max(p.calendar_days, 0)),
        "balance": str(Money.of(inv.balance, inv.currency)),
        "due_date": inv.due_date.isoformat(),
        "customer": p.ctx.cust.name or p.ctx.cust.customer_id,
    }


def _plan(p: StepPlan) -> None:
    assert isinstance(p.action, NoteAction)
    ctx = p.ctx
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, ActionKind.NOTE)
    text = Template(p.action.text).safe_substitute(substitutions(p))
    p.built.actions.append(ctx.action(ActionKind.NOTE, p.fire.id, p.why, key, text=text))


SPEC = register(
    KindSpec(
        name=ActionKind.NOTE,
        order=50,
        review_class=ReviewClass.INTERNAL,
        config=NoteAction,
        plan_step=_plan,
        describe=lambda _p, a, _d: f"note on the invoice: {getattr(a, 'text', '')!r}",
        tally="notes",
    )
)
