"""``email``: a reminder email through syncd's SMTP, using a named template.

A firing step's email is not planned on its own: it joins the customer's grouped email
(``policies.grouping``), one per customer and morning.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from policies.actions import ActionKind, EmailItem, PlannedAction, step_key
from policies.grouping import PendingEmail
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register
from policies.money import Money


class EmailAction(ActionConfig):
    """A reminder email through syncd's SMTP, using a named template."""

    kind: Literal["email"]
    template: Annotated[str, Field(min_length=1)]


def _plan(p: StepPlan) -> None:
    assert isinstance(p.action, EmailAction)
    ctx, inv, fire = p.ctx, p.ctx.inv, p.fire
    key = step_key(ctx.org.org, inv.invoice_id, fire.id, ActionKind.EMAIL)
    p.built.emails.append(
        PendingEmail(
            org=ctx.org.org,
            customer_id=inv.customer_id,
            policy=ctx.name,
            group=ctx.policy.group_emails,
            step_day=fire.days,
            item=EmailItem(
                inv.invoice_id,
                inv.number,
                fire.id,
                p.action.template,
                key,
                inv.due_date,
                p.calendar_days,
                Money.of(inv.balance, inv.currency),
            ),
            reason=p.why,
            review=ctx.review,
            review_mode=fire.review,
        )
    )


def _describe_planned(a: PlannedAction) -> str:
    what = f" (template {a.template!r}"
    if len(a.items) > 1:
        what += f", grouped with {len(a.items) - 1} other invoice(s)"
    if a.coming_up:
        what += f", {len(a.coming_up)} not yet due listed as coming up"
    return what + ")"


SPEC = register(
    KindSpec(
        name=ActionKind.EMAIL,
        order=40,
        review_class=ReviewClass.CONTACT,
        config=EmailAction,
        plan_step=_plan,
        states_claims=True,
        describe=lambda _p, a, _d: f"reminder email (template {getattr(a, 'template', '')!r})",
        describe_planned=_describe_planned,
        tally="emails",
    )
)
