"""``escalate``: final demand, marked for letter / collections / legal review; automatic
dunning of the invoice stops."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from pydantic import Field, model_validator

from policies.actions import ActionKind, step_key
from policies.kinds.base import ActionConfig, EscalationLevel, KindSpec, ReviewClass, StepPlan
from policies.kinds.registry import register

#: What a demand letter may say happens next; the letter words each one.
Consequence = Literal["collection-agency", "legal-proceedings"]
#: The Pre-Action Protocol for Debt Claims gives an individual debtor 30 days to reply.
PRE_ACTION_REPLY_DAYS = 30


class EscalateAction(ActionConfig):
    """Final demand: mark for letter / collections / legal review; stops automatic dunning.

    With ``letter`` set the step also produces a formal letter of demand (``demand``), or
    for individuals and sole traders in England and Wales the Pre-Action Protocol's letter
    of claim (``pre-action-ew``; business debtors get the ``demand`` letter instead). The
    letter itself is made by the executor (``syncd.letters``)."""

    kind: Literal["escalate"]
    level: EscalationLevel
    letter: Literal["demand", "pre-action-ew"] | None = None
    #: The final date to pay is the letter's date plus this many days.
    pay_within_days: Annotated[int, Field(strict=True, ge=7, le=90)] | None = None
    consequences: tuple[Consequence, ...] | None = None
    attach_to_email: bool | None = None
    by_post: bool | None = None

    @model_validator(mode="after")
    def _letter_settings(self) -> EscalateAction:
        extra = ("pay_within_days", "consequences", "attach_to_email", "by_post")
        if self.letter is None:
            given = [name for name in extra if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    f'{", ".join(given)} only apply to a letter: add letter = "demand" '
                    'or letter = "pre-action-ew"'
                )
            return self
        if self.letter == "pre-action-ew" and (self.pay_within_days or 30) < 30:
            raise ValueError(
                "pre-action-ew: the Pre-Action Protocol for Debt Claims gives the debtor "
                f"30 days to reply; expected pay_within_days >= 30, got {self.pay_within_days}"
            )
        if self.attach_to_email is False and self.by_post is False:
            raise ValueError(
                "a letter must reach the customer: set attach_to_email = true or by_post = true"
            )
        return self

    @property
    def letter_pay_within(self) -> int:
        default = PRE_ACTION_REPLY_DAYS if self.letter == "pre-action-ew" else 14
        return self.pay_within_days or default

    @property
    def letter_consequences(self) -> tuple[str, ...]:
        if self.consequences is not None:
            return self.consequences
        return ("collection-agency", "legal-proceedings")

    @property
    def letter_by_post(self) -> bool:
        return True if self.by_post is None else self.by_post


def _plan(p: StepPlan) -> None:
    assert isinstance(p.action, EscalateAction)
    ctx, level = p.ctx, p.action.level
    key = step_key(ctx.org.org, ctx.inv.invoice_id, p.fire.id, ActionKind.ESCALATE)
    text = f"{p.why}; escalated for {level.value} review, automatic reminders stop"
    p.built.actions.append(ctx.action(ActionKind.ESCALATE, p.fire.id, text, key, level=level))
    p.built.state = replace(p.built.state, escalation=level, stopped_on=ctx.today)


def _describe(_policy: object, action: ActionConfig, _days: int) -> str:
    assert isinstance(action, EscalateAction)
    words = f"escalate for {action.level.value} review and stop automatic reminders"
    if action.letter is not None:
        kind = (
            "letter of claim (England and Wales)"
            if action.letter == "pre-action-ew"
            else ("letter of demand")
        )
        words += f"; send a {kind}, {action.letter_pay_within} days to pay"
    return words


_ESCALATION_WORDS = {
    EscalationLevel.LETTER: "the account is referred for a formal letter of demand",
    EscalationLevel.COLLECTIONS: "the account is referred to collections",
    EscalationLevel.LEGAL: "the account is referred for legal action",
}


def _terms(_policy: object, action: ActionConfig, _days: int, _fmt: object) -> str:
    assert isinstance(action, EscalateAction)
    return f"{_ESCALATION_WORDS[action.level]} and automatic reminders stop"


SPEC = register(
    KindSpec(
        name=ActionKind.ESCALATE,
        order=60,
        review_class=ReviewClass.ESCALATION,
        config=EscalateAction,
        plan_step=_plan,
        describe=_describe,
        tally="escalations",
        terms=_terms,
    )
)
