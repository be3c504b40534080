"""The policy configuration schema: what may appear under ``[policies.NAME]`` and the
org-level dunning settings (rules, calendar, reference-rate tables).

Everything is validated by pydantic with unknown keys forbidden, because a typo in a
dunning policy (``grace_day = 10``) silently doing nothing would mean charging customers
fees the business never intended. Every error is reported with its key path so the
config loader can point at the exact line's key. Models are frozen: a validated policy
is a value the engine can share freely between invoices and cycles.

Split by responsibility: ``config_issues`` (error paths and messages), ``config_values``
(amounts, percentages, currencies), ``fee_schema`` (fees and interest), ``settings_schema``
(rules, calendar, rates); this module holds the policy and its steps, and every public name
of the others is re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from policies.config_issues import ConfigIssue as ConfigIssue
from policies.config_issues import PolicyConfigError as PolicyConfigError
from policies.config_issues import issues_from_validation_error as issues_from_validation_error
from policies.config_issues import join_path as join_path
from policies.config_issues import semantic_error
from policies.config_values import Amount as Amount
from policies.config_values import AmountSpec as AmountSpec
from policies.config_values import ConfigModel
from policies.config_values import Currency as Currency
from policies.config_values import Percent as Percent
from policies.config_values import StepId as StepId
from policies.fee_schema import FeeCapConfig as FeeCapConfig
from policies.fee_schema import FeeKind as FeeKind
from policies.fee_schema import FeeRuleConfig as FeeRuleConfig
from policies.fee_schema import InterestConfig as InterestConfig
from policies.fee_schema import InterestRegime as InterestRegime
from policies.kinds.base import ActionConfig as ActionConfig
from policies.kinds.base import EscalationLevel as EscalationLevel
from policies.kinds.email import EmailAction as EmailAction
from policies.kinds.escalate import EscalateAction as EscalateAction
from policies.kinds.interest import InterestAction as InterestAction
from policies.kinds.late_fee import LateFeeAction as LateFeeAction
from policies.kinds.note import NoteAction as NoteAction
from policies.kinds.provider_email import ProviderEmailAction as ProviderEmailAction
from policies.kinds.registry import kind as _kind
from policies.kinds.registry import step_models
from policies.kinds.stop import StopAction as StopAction
from policies.plans import PaymentPlanSettings
from policies.settings_schema import CalendarConfig as CalendarConfig
from policies.settings_schema import ExperimentConfig as ExperimentConfig
from policies.settings_schema import PolicySettings as PolicySettings
from policies.settings_schema import RateEntry as RateEntry
from policies.settings_schema import RatesConfig as RatesConfig
from policies.settings_schema import RuleConfig as RuleConfig
from policies.settings_schema import Weekday as Weekday
from policies.settings_schema import cross_check as cross_check
from policies.settings_schema import validate_settings as validate_settings

# ---------------------------------------------------------------------------
# Step actions


# The action models live with their kinds (``policies.kinds``) and are re-exported here.
if TYPE_CHECKING:
    StepAction = ActionConfig
else:
    StepAction = Annotated[Union[step_models()], Field(discriminator="kind")]  # noqa: UP007
"""Any registered kind's step action, chosen by its ``kind`` key."""


def default_step_id(days: int) -> str:
    """Identity of a step without an explicit ``id``: its day offset (``day+14``)."""
    return f"day{days:+d}"


class StepConfig(ConfigModel):
    """One step of the schedule, ``days`` relative to the due date (negative = before).

    Identity: ``id`` if given, else ``day{days:+d}``. The engine records fired steps by
    id, so give steps explicit ids if you may later move them to another day: moving an
    id-less step creates a new step.
    """

    id: StepId
    days: Annotated[int, Field(strict=True, ge=-365, le=3650)]
    actions: Annotated[list[StepAction], Field(min_length=1)]
    label: str | None = None
    min_balance: Amount | None = None
    customer_groups: list[str] | None = None
    review: Literal["always", "never"] | None = None
    """Override the org's review mode for this step's actions (``PlannedAction.review_mode``)."""

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "id" not in data:
            days = data.get("days")
            if isinstance(days, int) and not isinstance(days, bool):
                return {**data, "id": default_step_id(days)}
            return {**data, "id": "unnamed"}  # the error on ``days`` says what is wrong
        return data

    @model_validator(mode="after")
    def _unique_kinds(self) -> StepConfig:
        seen: set[str] = set()
        issues: list[tuple[str, str]] = []
        for i, action in enumerate(self.actions):
            if action.kind in seen:
                issues.append((f"actions[{i}]", f"a step has at most one {action.kind!r} action"))
            seen.add(action.kind)
        if issues:
            raise semantic_error(issues)
        return self

    def kinds(self) -> tuple[str, ...]:
        return tuple(a.kind for a in self.actions)


class OnboardingConfig(ConfigModel):
    """How invoices already overdue on the org's go-live date enter the ladder.

    They get one entry email per customer (``template``, a polite account summary that
    claims no earlier reminder) ``delay_days`` after go-live; later steps count from the
    entry. Invoices more than ``review_older_than_days`` overdue at go-live are held for
    human review instead of automatic dunning.
    """

    template: Annotated[str, Field(min_length=1)] = "account-summary"
    delay_days: Annotated[int, Field(ge=0, le=365)] = 0
    review_older_than_days: Annotated[int, Field(ge=0, le=3650)] = 180


#: ``PolicyConfig.schedule`` by the identities of the steps; the value keeps the steps alive, so
#: an identity is never reused while its entry exists (steps are frozen: same ids, same order).
_SCHEDULES: dict[tuple[int, ...], tuple[tuple[StepConfig, ...], tuple[StepConfig, ...]]] = {}
_MEMO_SIZE = 256


class PolicyConfig(ConfigModel):
    """A dunning policy, as written under ``[policies.NAME]`` once ``extends`` is resolved."""

    description: str = ""
    extends: str | None = None
    group_emails: bool = True
    steps: list[StepConfig] = Field(default_factory=list)
    fees: dict[str, FeeRuleConfig] = Field(default_factory=dict)
    fee_cap: FeeCapConfig | None = None
    interest: InterestConfig | None = None
    onboarding: OnboardingConfig = Field(default_factory=OnboardingConfig)
    backdate_fees: bool = False
    """Charge fee periods dated before the org's go-live. The riskier choice: customers
    are billed for time syncd was not dunning them."""
    backdate_interest: bool = False
    """Claim statutory interest (and compensation) for days before go-live. Riskier."""
    max_catch_up_periods: Annotated[int, Field(ge=0, le=1000)] = 1
    """Fee periods missed while syncd was not running that one cycle may still charge,
    besides the current period; older ones are waived."""
    payment_plan: PaymentPlanSettings = Field(default_factory=PaymentPlanSettings)

    @model_validator(mode="after")
    def _cross_checks(self) -> PolicyConfig:
        issues: list[tuple[str, str]] = []
        ids: dict[str, int] = {}
        days: dict[int, str] = {}
        for i, step in enumerate(self.steps):
            where = f"steps[{i}]"
            if step.id == "onboarding":
                issues.append(
                    (f"{where}.id", "'onboarding' is reserved for the go-live entry email")
                )
            if step.id in ids:
                issues.append((f"{where}.id", f"duplicate step id {step.id!r}"))
            ids[step.id] = i
            if step.days in days:
                issues.append(
                    (
                        f"{where}.days",
                        f"step {days[step.days]!r} is already on day {step.days}; "
                        "put both actions in one step",
                    )
                )
            days[step.days] = step.id
            for j, action in enumerate(step.actions):
                check = _kind(action.kind).validate
                for sub, message in check(self, step, action) if check else []:
                    path = f"{where}.actions[{j}]" + (f".{sub}" if sub else "")
                    issues.append((path, message))
        if issues:
            raise semantic_error(issues)
        return self

    def schedule(self) -> list[StepConfig]:
        """Steps in day order (stable for equal days); the order the engine reasons in.
        Sorted once per list of steps: the engine asks several times per invoice."""
        key = tuple(map(id, self.steps))
        hit = _SCHEDULES.get(key)
        if hit is None:
            if len(_SCHEDULES) >= _MEMO_SIZE:
                _SCHEDULES.clear()
            ordered = tuple(sorted(self.steps, key=lambda s: s.days))
            hit = _SCHEDULES[key] = (tuple(self.steps), ordered)
        return list(hit[1])

    def step(self, step_id: str) -> StepConfig | None:
        for s in self.steps:
            if s.id == step_id:
                return s
        return None
