"""``interest``: claim the statutory interest accrued so far (and the fixed
compensation, once).

Planned by ``policies.steps`` after the step's other actions, because a step that emails
a customer whose interest was claimed before also states the interest accrued since
(``policies.claims``): the claim depends on the whole step, not on this action alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from policies.actions import ActionKind
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass
from policies.kinds.registry import register

if TYPE_CHECKING:
    from policies.schema import PolicyConfig, StepConfig


class InterestAction(ActionConfig):
    """Claim statutory interest accrued so far (and the fixed compensation, once)."""

    kind: Literal["interest"]


def _validate(
    policy: PolicyConfig, _step: StepConfig, _action: ActionConfig
) -> list[tuple[str, str]]:
    return [("", "needs an [interest] section")] if policy.interest is None else []


SPEC = register(
    KindSpec(
        name=ActionKind.INTEREST,
        order=10,
        review_class=ReviewClass.CHARGE,
        config=InterestAction,
        describe=lambda _p, _a, _d: (
            "claim statutory interest to date (and fixed compensation once)"
        ),
        money_tally="interest",
        validate=_validate,
    )
)
