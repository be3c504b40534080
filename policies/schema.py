"""The policy configuration schema: what may appear under ``[policies.NAME]`` and the
org-level dunning settings (rules, calendar, reference-rate tables).

Everything is validated by pydantic with unknown keys forbidden, because a typo in a
dunning policy (``grace_day = 10``) silently doing nothing would mean charging customers
fees the business never intended. Every error is reported with its key path so the
config loader can point at the exact line's key. Models are frozen: a validated policy
is a value the engine can share freely between invoices and cycles.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
from policies.money import is_known_currency
from policies.plans import PaymentPlanSettings

# ---------------------------------------------------------------------------
# Errors


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in the config: the dotted key path and a short human message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PolicyConfigError(ValueError):
    """Raised with *all* the problems found, so a user fixes the file in one go.

    ``issues`` is a tuple of ``ConfigIssue(path, message)``; paths are rooted at the
    ``root`` the validator was given (``policies`` by default), so the config loader only
    has to prefix the file name.
    """

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("; ".join(str(i) for i in self.issues))

    def as_pairs(self) -> list[tuple[str, str]]:
        return [(i.path, i.message) for i in self.issues]


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def join_path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    part = key if _IDENT.match(key) else f'"{key}"'
    return f"{base}.{part}" if base else part


def _friendly(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", ""))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected an integer"
    if kind in ("decimal_parsing", "decimal_type"):
        return 'expected a decimal number (write money as a string, e.g. "25.00")'
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    if kind == "union_tag_not_found":
        return "missing key 'kind' (the action type)"
    if msg.startswith("Input should be "):
        return "expected " + msg[len("Input should be ") :]
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return msg


def issues_from_validation_error(
    exc: ValidationError, data: Any, root: str = ""
) -> list[ConfigIssue]:
    """Translate pydantic errors into key paths that match what the user wrote.

    Discriminated unions add the tag (``email``) to pydantic's location; it is not a key
    in the user's file, so it is dropped by walking the input alongside the location.
    """
    out: list[ConfigIssue] = []
    for err in exc.errors():
        path = root
        cur: Any = data
        for seg in err["loc"]:
            if isinstance(cur, Mapping) and isinstance(seg, str):
                if seg in cur:
                    path = join_path(path, seg)
                    cur = cur[seg]
                elif cur.get("kind") == seg:
                    continue
                else:
                    path = join_path(path, seg)
                    cur = None
            elif isinstance(cur, list) and isinstance(seg, int):
                path = join_path(path, seg)
                cur = cur[seg] if 0 <= seg < len(cur) else None
            else:
                path = join_path(path, seg)
                cur = None
        ctx = err.get("ctx") or {}
        sub = ctx.get("issues")
        if err["type"] == "policy_semantics" and isinstance(sub, list):
            for sub_path, message in sub:
                full = f"{path}.{sub_path}" if path and sub_path else (path or sub_path)
                out.append(ConfigIssue(full, message))
        else:
            out.append(ConfigIssue(path, _friendly(err)))
    return out


def _semantic_error(issues: list[tuple[str, str]]) -> PydanticCustomError:
    return PydanticCustomError(
        "policy_semantics",
        "{summary}",
        {"summary": "; ".join(f"{p}: {m}" for p, m in issues), "issues": issues},
    )


# ---------------------------------------------------------------------------
# Amounts and percentages


@dataclass(frozen=True, slots=True)
class AmountSpec:
    """A configured money amount: one figure for every currency, or one per currency.

    A policy is often shared by customers billed in several currencies; ``25`` GBP is
    not ``25`` JPY, so an amount may be a table ``{ GBP = "25", EUR = "30" }``. A
    currency missing from the table means the amount does not apply to it (the engine
    then skips the fee and says why) rather than guessing an exchange rate.
    """

    default: Decimal | None = None
    by_currency: tuple[tuple[str, Decimal], ...] = ()

    def for_currency(self, currency: str) -> Decimal | None:
        for code, value in self.by_currency:
            if code == currency:
                return value
        return self.default

    def __str__(self) -> str:
        if self.default is not None and not self.by_currency:
            return str(self.default)
        parts = [f"{v} {c}" for c, v in self.by_currency]
        if self.default is not None:
            parts.append(f"{self.default} in other currencies")
        return ", ".join(parts)


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a decimal number")
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, int | str):
        try:
            out = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError(f"expected a decimal number, got {value!r}") from None
    elif isinstance(value, float):
        # TOML has no decimal type; 1.5 arrives as a float. repr() gives the shortest
        # string that round-trips, which is what the user typed.
        out = Decimal(repr(value))
    else:
        raise ValueError(f"expected a decimal number, got {type(value).__name__}")
    if not out.is_finite():
        raise ValueError("expected a finite decimal number")
    if out < 0:
        raise ValueError("must not be negative")
    return out


def _parse_amount(value: Any) -> AmountSpec:
    if isinstance(value, AmountSpec):
        return value
    if isinstance(value, Mapping):
        pairs: list[tuple[str, Decimal]] = []
        default: Decimal | None = None
        for code, raw in value.items():
            if not isinstance(code, str):
                raise ValueError("currency keys must be strings")
            if code == "*":
                default = _parse_decimal(raw)
                continue
            if not is_known_currency(code):
                raise ValueError(f"unknown currency code {code!r}")
            try:
                pairs.append((code, _parse_decimal(raw)))
            except ValueError as exc:
                raise ValueError(f"{code}: {exc}") from None
        return AmountSpec(default=default, by_currency=tuple(sorted(pairs)))
    return AmountSpec(default=_parse_decimal(value))


Amount = Annotated[AmountSpec, PlainValidator(_parse_amount)]
"""A non-negative amount: ``"25.00"`` or ``{ GBP = "25", EUR = "30", "*" = "25" }``."""

Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]
"""A percentage as written by people: ``1.5`` means 1.5 %."""


def _check_currency(code: str) -> str:
    if not is_known_currency(code):
        raise ValueError(f"unknown currency code {code!r}")
    return code


Currency = Annotated[str, PlainValidator(lambda v: _check_currency(str(v)))]

StepId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class StepConfig(_Model):
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
            raise _semantic_error(issues)
        return self

    def kinds(self) -> tuple[str, ...]:
        return tuple(a.kind for a in self.actions)


# ---------------------------------------------------------------------------
# Fees, caps, interest


class FeeKind(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"
    PERCENT_PER_PERIOD = "percent_per_period"


class FeeRuleConfig(_Model):
    """A late fee rule, started by a step's ``late_fee`` action.

    ``fixed`` and ``percent`` are charged once; ``percent_per_period`` is charged at the
    start of every period (the first at the step's day + ``grace_days``), on the overdue
    balance (``compounding = false``) or on the balance plus this rule's earlier fees
    (``compounding = true``).
    """

    kind: FeeKind
    amount: Amount | None = None
    percent: Percent | None = None
    period: Literal["day", "week", "month"] = "month"
    every: Annotated[int, Field(ge=1, le=366)] = 1
    compounding: bool = False
    grace_days: Annotated[int, Field(ge=0, le=3650)] = 0
    max_periods: Annotated[int, Field(ge=1)] | None = None
    min_balance: Amount | None = None
    min: Amount | None = None
    max: Amount | None = None
    label: str | None = None

    @model_validator(mode="after")
    def _fields_match_kind(self) -> FeeRuleConfig:
        issues: list[tuple[str, str]] = []
        if self.kind is FeeKind.FIXED:
            if self.amount is None:
                issues.append(("amount", "required for a fixed fee"))
            if self.percent is not None:
                issues.append(("percent", 'not allowed for a fixed fee (use kind = "percent")'))
        else:
            if self.percent is None:
                issues.append(("percent", f"required for a {self.kind.value} fee"))
            if self.amount is not None:
                issues.append(("amount", f"not allowed for a {self.kind.value} fee"))
        if self.kind is not FeeKind.PERCENT_PER_PERIOD:
            for key in ("period", "every", "compounding", "max_periods"):
                if key in self.model_fields_set:
                    issues.append((key, 'only for kind = "percent_per_period"'))
        if issues:
            raise _semantic_error(issues)
        return self


class FeeCapConfig(_Model):
    """Ceiling on the total of all late fees of one invoice; the lower of the two wins."""

    amount: Amount | None = None
    percent_of_total: Percent | None = None


class InterestRegime(StrEnum):
    UK = "uk"
    EU = "eu"


class InterestConfig(_Model):
    """Statutory interest: UK Late Payment of Commercial Debts (Interest) Act 1998, or the
    EU Late Payment Directive 2011/7/EU. Reference rates come from ``rates`` in the
    settings, never fetched."""

    regime: InterestRegime
    margin_points: Annotated[Decimal, Field(ge=0, le=50)] = Decimal(8)
    compensation: bool = True
    day_basis: Literal[360, 365] = 365
    currencies: list[Currency] | None = None
    """Debt currencies the claim applies to; default: GBP for ``uk``, EUR for ``eu``."""
    business_customers_default: bool | None = None
    """Whether a customer whose type is unknown is treated as a business. Unset (the
    careful default): the claim is planned but held for review, because the statutes
    cover business debts only and claiming from a consumer would be wrong."""

    def applies_to(self) -> tuple[str, ...]:
        if self.currencies is not None:
            return tuple(self.currencies)
        return ("GBP",) if self.regime is InterestRegime.UK else ("EUR",)


class OnboardingConfig(_Model):
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


class PolicyConfig(_Model):
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
            raise _semantic_error(issues)
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


# ---------------------------------------------------------------------------
# Org-level settings: rules, calendar, rates


class ExperimentConfig(_Model):
    """An A/B test on a rule: ``share`` of the org's customers matching the rule get
    ``policy`` (the candidate), the rest the rule's policy. Which customer is in which arm
    is a hash of (``seed``, org, customer id), recorded the first time and never changed
    (``policies.experiments``)."""

    policy: Annotated[str, Field(min_length=1)]
    share: Annotated[Decimal, Field(gt=0, lt=1, allow_inf_nan=False)]
    seed: Annotated[str, Field(min_length=1)]

    @field_validator("seed")
    @classmethod
    def _seed_not_blank(cls, seed: str) -> str:
        if not seed.strip():
            raise ValueError('must not be blank (any text, e.g. "2026-q4")')
        return seed


class RuleConfig(_Model):
    """Choose a policy (or exclude) for invoices matching *all* the given conditions.

    Rules are tried in order; the first match wins; no match means the org's default
    policy. ``groups`` matches a customer's groups or tags. Balance bounds compare the
    invoice's open balance: ``balance_min`` inclusive, ``balance_max`` exclusive.
    """

    name: str | None = None
    customer_ids: list[str] | None = None
    groups: list[str] | None = None
    currencies: list[Currency] | None = None
    balance_min: Amount | None = None
    balance_max: Amount | None = None
    policy: str | None = None
    exclude: bool = False
    experiment: ExperimentConfig | None = None
    """An A/B test of a candidate policy against ``policy``; its name is the rule's ``name``."""

    @model_validator(mode="after")
    def _one_outcome(self) -> RuleConfig:
        if self.exclude == (self.policy is not None):
            raise ValueError('a rule needs exactly one of policy = "NAME" or exclude = true')
        issues: list[tuple[str, str]] = []
        if self.experiment is not None:
            if not self.name:
                issues.append(("name", "required when the rule has an experiment (its name)"))
            if self.exclude:
                issues.append(("experiment", "an excluding rule cannot run an experiment"))
            elif self.experiment.policy == self.policy:
                issues.append(("experiment.policy", "must differ from the rule's policy"))
        if issues:
            raise _semantic_error(issues)
        return self


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday = 0, as ``date.weekday()``."""
        return list(Weekday).index(self)


class CalendarConfig(_Model):
    """When actions may go out, in the org's local time (the timezone comes from the org).

    Public holidays come from the ``holidays`` package for ``holiday_country`` (ISO
    3166-1 alpha-2) and optional ``holiday_subdivision`` (e.g. ``GB`` / ``ENG``).
    """

    send_days: list[Weekday] = Field(
        default_factory=lambda: [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI]
    )
    send_from: time = time(9, 0)
    send_until: time = time(17, 0)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> CalendarConfig:
        issues: list[tuple[str, str]] = []
        if not self.send_days:
            issues.append(("send_days", "at least one day is needed"))
        if self.send_from >= self.send_until:
            issues.append(("send_until", "must be later than send_from"))
        if self.holiday_subdivision and not self.holiday_country:
            issues.append(("holiday_subdivision", "needs holiday_country"))
        if self.holiday_country:
            import holidays  # local: only when configured

            if self.holiday_country not in holidays.list_supported_countries():
                issues.append(("holiday_country", f"unknown country {self.holiday_country!r}"))
            else:
                try:
                    holidays.country_holidays(
                        self.holiday_country, subdiv=self.holiday_subdivision, years=2000
                    )
                except (NotImplementedError, ValueError, KeyError):
                    issues.append(
                        (
                            "holiday_subdivision",
                            f"{self.holiday_country} has no subdivision "
                            f"{self.holiday_subdivision!r}",
                        )
                    )
        if issues:
            raise _semantic_error(issues)
        return self


class RateEntry(_Model):
    """A reference rate in force from ``since`` until the next entry."""

    since: date
    percent: Annotated[Decimal, Field(ge=-10, le=100, allow_inf_nan=False)]


class RatesConfig(_Model):
    """Dated reference-rate tables: Bank of England base rate, ECB main refinancing rate."""

    boe_base: list[RateEntry] = Field(default_factory=list)
    ecb_refi: list[RateEntry] = Field(default_factory=list)

    @field_validator("boe_base", "ecb_refi")
    @classmethod
    def _sorted_unique(cls, entries: list[RateEntry]) -> list[RateEntry]:
        out = sorted(entries, key=lambda e: e.since)
        for a, b in itertools.pairwise(out):
            if a.since == b.since:
                raise ValueError(f"two entries for {a.since.isoformat()}")
        return out


class PolicySettings(_Model):
    """Org-level dunning settings around the policies: rules, calendar and rate tables."""

    rules: list[RuleConfig] = Field(default_factory=list)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    rates: RatesConfig = Field(default_factory=RatesConfig)


def validate_settings(
    raw: Mapping[str, Any],
    *,
    policies: Mapping[str, PolicyConfig] | None = None,
    root: str = "",
) -> PolicySettings:
    """Validate settings; with ``policies``, also check rule targets and rate tables exist."""
    try:
        settings = PolicySettings.model_validate(raw)
    except ValidationError as exc:
        raise PolicyConfigError(issues_from_validation_error(exc, raw, root)) from None
    if policies is not None:
        issues = cross_check(settings, policies, root=root)
        if issues:
            raise PolicyConfigError(issues)
    return settings


def cross_check(
    settings: PolicySettings, policies: Mapping[str, PolicyConfig], *, root: str = ""
) -> list[ConfigIssue]:
    """Problems that need both the settings and the policies to see."""
    issues: list[ConfigIssue] = []
    for i, rule in enumerate(settings.rules):
        if rule.policy is not None and rule.policy not in policies:
            path = join_path(join_path(join_path(root, "rules"), i), "policy")
            issues.append(ConfigIssue(path, f"no policy named {rule.policy!r}"))
        if rule.experiment is not None and rule.experiment.policy not in policies:
            path = join_path(join_path(join_path(root, "rules"), i), "experiment")
            issues.append(
                ConfigIssue(f"{path}.policy", f"no policy named {rule.experiment.policy!r}")
            )
    names = [r.name for r in settings.rules if r.experiment is not None]
    for i, rule in enumerate(settings.rules):
        if rule.experiment is not None and names.count(rule.name) > 1:
            path = join_path(join_path(join_path(root, "rules"), i), "name")
            issues.append(ConfigIssue(path, f"two experiments named {rule.name!r}"))
    for name, policy in sorted(policies.items()):
        if policy.interest is None:
            continue
        table = "boe_base" if policy.interest.regime is InterestRegime.UK else "ecb_refi"
        if not getattr(settings.rates, table):
            path = join_path(join_path(root, "rates"), table)
            issues.append(
                ConfigIssue(path, f"policy {name!r} claims statutory interest; add rate entries")
            )
    return issues
