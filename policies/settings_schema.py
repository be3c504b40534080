"""The org-level dunning settings around the policies: rules (with A/B experiments), the
sending calendar and the reference-rate tables, and the checks that need the policies too."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from policies.config_issues import (
    ConfigIssue,
    PolicyConfigError,
    issues_from_validation_error,
    join_path,
    semantic_error,
)
from policies.config_values import Amount, ConfigModel, Currency
from policies.fee_schema import InterestRegime

if TYPE_CHECKING:
    from policies.schema import PolicyConfig


class ExperimentConfig(ConfigModel):
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


class RuleConfig(ConfigModel):
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
            raise semantic_error(issues)
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


class CalendarConfig(ConfigModel):
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
            raise semantic_error(issues)
        return self


class RateEntry(ConfigModel):
    """A reference rate in force from ``since`` until the next entry."""

    since: date
    percent: Annotated[Decimal, Field(ge=-10, le=100, allow_inf_nan=False)]


class RatesConfig(ConfigModel):
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


class PolicySettings(ConfigModel):
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
