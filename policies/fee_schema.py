"""The policy's money rules as configured: late fee rules, the fee cap and statutory
interest (the engine's arithmetic is in ``policies.fees`` and ``policies.interest``)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from policies.config_issues import semantic_error
from policies.config_values import Amount, ConfigModel, Currency, Percent


class FeeKind(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"
    PERCENT_PER_PERIOD = "percent_per_period"


class FeeRuleConfig(ConfigModel):
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
            raise semantic_error(issues)
        return self


class FeeCapConfig(ConfigModel):
    """Ceiling on the total of all late fees of one invoice; the lower of the two wins."""

    amount: Amount | None = None
    percent_of_total: Percent | None = None


class InterestRegime(StrEnum):
    UK = "uk"
    EU = "eu"


class InterestConfig(ConfigModel):
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
