"""How the invoice terms show numbers: money, percentages and days, per locale (Babel).

Kept apart from ``policies.terms`` so that a kind module can type its ``terms`` function
against it without importing the policy schema (see ``policies.kinds.base``). The words
stay English whatever the locale; only number, currency and date formats follow it, since
an invented translation of a contract clause would be worse than none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

if TYPE_CHECKING:
    from policies.schema import AmountSpec


class UnknownLocale(ValueError):
    """The ``--locale`` is not one Babel knows."""


@dataclass(frozen=True)
class TermsFormat:
    """Formats for one locale (``en_GB`` by default: the statutes quoted are British/EU)."""

    locale: Locale

    @classmethod
    def for_locale(cls, name: str = "en_GB") -> TermsFormat:
        try:
            return cls(Locale.parse(name.replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            raise UnknownLocale(
                f"unknown locale {name!r} (expected a locale like en_GB, de_DE, fr_FR)"
            ) from None

    @property
    def is_english(self) -> bool:
        return self.locale.language == "en"

    def money(self, value: Decimal, currency: str) -> str:
        return str(format_currency(value, currency, locale=self.locale))

    def number(self, value: Decimal) -> str:
        return str(format_decimal(value, locale=self.locale))

    def percent(self, value: Decimal) -> str:
        """``value`` as people write it: ``1.5`` is 1.5 %."""
        return str(format_percent(value / 100, format="#,##0.###%", locale=self.locale))

    def date(self, value: date) -> str:
        return str(format_date(value, format="long", locale=self.locale))

    def amount(self, spec: AmountSpec) -> str:
        """A per-currency amount in words: ``£25.00 (€30.00 on invoices in EUR)``."""
        parts = [self.money(v, c) for c, v in spec.by_currency]
        if spec.default is not None:
            plain = f"{self.number(spec.default)} in the invoice's currency"
            if not parts:
                return plain
            parts.append(f"{plain} for other currencies")
        if len(parts) == 1:
            return parts[0] + f" (on invoices in {spec.by_currency[0][0]} only)"
        return ", ".join(parts[:-1]) + " or " + parts[-1] + " by the invoice's currency"


def days_words(days: int) -> str:
    """When a step happens, relative to the due date, as a customer reads it."""
    if days < 0:
        n = -days
        return f"{n} day{'s' if n != 1 else ''} before the due date"
    if days == 0:
        return "on the due date"
    return f"{days} day{'s' if days != 1 else ''} after the due date"
