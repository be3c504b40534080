"""The payment-terms paragraph for invoices (``syncd policy terms``), from the policy.

Each step's customer-facing words come from its kind's registry entry (``KindSpec.terms``),
and fees, the cap and statutory interest from the same validated ``PolicyConfig`` the
engine runs, so what the invoice says syncd will do and what syncd does cannot drift: a
fee, a cap or a step day changed in the policy changes this text. A kind without its own
words is stated generically rather than left out, because a charge or a step the terms
never mentioned is exactly what a careful bookkeeper would not want to surprise a customer
with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from policies.kinds.registry import kind
from policies.schema import (
    FeeCapConfig,
    FeeKind,
    FeeRuleConfig,
    InterestConfig,
    InterestRegime,
    PolicyConfig,
)
from policies.terms_format import TermsFormat, days_words

_PERIODS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}


@dataclass(frozen=True)
class Terms:
    """The terms as sentences (``text`` joins them into the paragraph)."""

    policy: str
    locale: str
    sentences: list[str] = field(default_factory=list)
    note: str | None = None
    """Said when the locale is not English: the words are English, the numbers local."""

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "locale": self.locale,
            "text": self.text,
            "sentences": list(self.sentences),
            "note": self.note,
        }


def fee_terms(rule: FeeRuleConfig, start_days: int, fmt: TermsFormat) -> str:
    """One fee rule in the customer's words, from the day the step starts it."""
    when = days_words(start_days + rule.grace_days)
    if rule.kind is FeeKind.FIXED:
        assert rule.amount is not None
        text = f"a late payment fee of {fmt.amount(rule.amount)} is charged {when}"
    elif rule.kind is FeeKind.PERCENT:
        assert rule.percent is not None
        text = (
            f"a late payment fee of {fmt.percent(rule.percent)} of the overdue balance is "
            f"charged once, {when}"
        )
    else:
        assert rule.percent is not None
        one, many = _PERIODS[rule.period]
        every = f"every {one}" if rule.every == 1 else f"every {rule.every} {many}"
        base = (
            "the overdue balance plus earlier such charges"
            if rule.compounding
            else ("the overdue balance")
        )
        text = f"a charge of {fmt.percent(rule.percent)} of {base} is made {every} from {when}"
        if rule.max_periods is not None:
            text += f", at most {rule.max_periods} times"
    if rule.min is not None:
        text += f", at least {fmt.amount(rule.min)} a charge"
    if rule.max is not None:
        text += f", at most {fmt.amount(rule.max)} a charge"
    if rule.min_balance is not None:
        text += f", only when at least {fmt.amount(rule.min_balance)} is overdue"
    return text


def cap_terms(cap: FeeCapConfig, fmt: TermsFormat) -> str:
    parts: list[str] = []
    if cap.amount is not None:
        parts.append(fmt.amount(cap.amount))
    if cap.percent_of_total is not None:
        parts.append(f"{fmt.percent(cap.percent_of_total)} of the invoice total")
    lower = ", whichever is lower" if len(parts) > 1 else ""
    return "Late payment fees on one invoice never exceed " + " or ".join(parts) + lower + "."


def interest_terms(interest: InterestConfig, fmt: TermsFormat) -> list[str]:
    """Statutory interest and compensation, for business customers only (the statutes)."""
    margin = fmt.percent(interest.margin_points)

    def gbp(value: int) -> str:
        return fmt.money(Decimal(value), "GBP")

    if interest.regime is InterestRegime.UK:
        out = [
            "If you are a business, late payment is subject to the Late Payment of Commercial "
            "Debts (Interest) Act 1998: simple interest at "
            f"{margin} a year above the Bank of England base rate in force on the 31 December "
            "or 30 June before payment fell due, on a "
            f"{interest.day_basis}-day year, from the day after the due date."
        ]
        if interest.compensation:
            out.append(
                "We also claim the fixed compensation the Act provides: "
                f"{gbp(40)} for a debt under {gbp(1000)}, {gbp(70)} under {gbp(10000)} "
                f"and {gbp(100)} above."
            )
    else:
        out = [
            "If you are a business, late payment is subject to the laws implementing "
            "Directive 2011/7/EU on combating late payment in commercial transactions: "
            f"simple interest at {margin} a year above the European Central Bank's main "
            "refinancing rate in force on the first day of the half-year concerned, on a "
            f"{interest.day_basis}-day year, from the day after the due date."
        ]
        if interest.compensation:
            out.append(
                "We also claim the fixed compensation of "
                f"{fmt.money(Decimal(40), 'EUR')} the Directive provides for recovery costs."
            )
    currencies = interest.currencies or (
        ["GBP"] if interest.regime is InterestRegime.UK else ["EUR"]
    )
    out.append(
        "Statutory interest applies to invoices in " + ", ".join(currencies) + " and is "
        "not claimed from consumers."
    )
    return out


def step_terms(policy: PolicyConfig, fmt: TermsFormat) -> list[str]:
    """One sentence per step that has something the customer sees, in day order."""
    out: list[str] = []
    for step in policy.schedule():
        said: list[str] = []
        for action in step.actions:
            spec = kind(action.kind)
            if spec.terms is None:
                said.append(f"a further collection step ({action.kind.replace('_', ' ')})")
                continue
            words = spec.terms(policy, action, step.days, fmt)
            if words:
                said.append(words)
        if not said:
            continue
        cond = ""
        if step.min_balance is not None:
            cond = f" (when at least {fmt.amount(step.min_balance)} is open)"
        elif step.customer_groups:
            cond = " (for some accounts only)"
        head = days_words(step.days)
        out.append(f"{head[0].upper()}{head[1:]}{cond}: " + "; ".join(said) + ".")
    return out


def payment_terms(name: str, policy: PolicyConfig, fmt: TermsFormat) -> Terms:
    """The terms paragraph for invoices under policy ``name``."""
    sentences = ["Payment is due by the due date shown on this invoice."]
    sentences.extend(step_terms(policy, fmt))
    if policy.fee_cap is not None:
        sentences.append(cap_terms(policy.fee_cap, fmt))
    if policy.interest is not None:
        sentences.extend(interest_terms(policy.interest, fmt))
    if not policy.steps:
        sentences.append("No reminders are sent and no charges are made for late payment.")
    sentences.append("Reminders and charges stop once the invoice is paid in full.")
    note = None
    if not fmt.is_english:
        note = (
            f"This text is in English; amounts, percentages and dates use the number formats "
            f"of {fmt.locale.get_display_name('en')} ({fmt.locale})."
        )
    return Terms(name, str(fmt.locale), sentences, note)
