"""``late_fee``: start charging the named fee rule from the step's day.

The step itself plans nothing: ``policies.fees`` accrues the rule's periods every cycle
from the step's day and the engine plans one charge per period (``fee_key``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from policies.actions import ActionKind
from policies.kinds.base import ActionConfig, KindSpec, ReviewClass
from policies.kinds.registry import register

if TYPE_CHECKING:
    from policies.schema import PolicyConfig, StepConfig


class LateFeeAction(ActionConfig):
    """Start charging the named fee rule (see ``fees``) from this step's day."""

    kind: Literal["late_fee"]
    fee: Annotated[str, Field(min_length=1)]


def _validate(
    policy: PolicyConfig, step: StepConfig, action: ActionConfig
) -> list[tuple[str, str]]:
    assert isinstance(action, LateFeeAction)
    if action.fee not in policy.fees:
        return [("fee", f"no fee rule named {action.fee!r}")]
    for earlier in policy.steps:
        if earlier is step:
            break
        if any(isinstance(a, LateFeeAction) and a.fee == action.fee for a in earlier.actions):
            return [
                (
                    "fee",
                    f"fee rule {action.fee!r} is already started by step {earlier.id!r}; "
                    "define a second rule",
                )
            ]
    return []


def _describe(policy: PolicyConfig, action: ActionConfig, days: int) -> str:
    from policies.explain import describe_fee

    assert isinstance(action, LateFeeAction)
    return describe_fee(action.fee, policy.fees[action.fee], days)


SPEC = register(
    KindSpec(
        name=ActionKind.LATE_FEE,
        order=0,
        review_class=ReviewClass.CHARGE,
        config=LateFeeAction,
        describe=_describe,
        money_tally="fees",
        validate=_validate,
    )
)
