"""The value types a policy is written in: amounts (per currency), percentages, currency
codes and step ids, and the frozen, strict base every policy config model derives from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from policies.money import is_known_currency


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


class ConfigModel(BaseModel):
    """Unknown keys are refused (a typo must not silently do nothing) and a validated model
    is frozen, a value the engine may share between invoices and cycles."""

    model_config = ConfigDict(extra="forbid", frozen=True)
