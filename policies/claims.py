"""Who owes statutory interest, from when, and for how much: the gate in front of
``interest``.

The UK Act and the EU Directive cover commercial debts only, and the UK rates and
compensation bands are defined in sterling, so a claim is made only:

* on a debt in one of the regime's currencies (``[interest] currencies``; by default
  GBP for ``uk``, EUR for ``eu``);
* from a business customer: ``CustomerSnapshot.is_business``, else a customer tag
  ``business`` (or ``consumer``), else the policy's ``business_customers_default``.
  With none of these the careful default applies: the claim is planned but held for
  review, because claiming statutory interest from a consumer would be wrong;
* for days on or after go-live, unless the policy sets ``backdate_interest = true``
  (the fixed compensation is dated the day interest starts to run, so a debt already
  late before go-live gets none unless backdated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from policies.interest import (
    MissingRate,
    compensation,
    review_windows,
    statutory_interest,
    waived_windows,
)
from policies.money import round_money
from policies.schema import InterestConfig, PolicyConfig, RatesConfig
from policies.snapshot import CustomerSnapshot, DunningState, InvoiceSnapshot

BUSINESS_TAGS = frozenset({"business", "b2b"})
CONSUMER_TAGS = frozenset({"consumer", "b2c", "individual"})


def business_status(customer: CustomerSnapshot, config: InterestConfig) -> tuple[bool | None, str]:
    """Whether the customer is a business, and on what that rests."""
    if customer.is_business is not None:
        kind = "a business" if customer.is_business else "not a business"
        return customer.is_business, f"the customer is {kind} (provider's customer type)"
    if customer.groups & BUSINESS_TAGS:
        return True, "the customer is tagged as a business"
    if customer.groups & CONSUMER_TAGS:
        return False, "the customer is tagged as a consumer"
    if config.business_customers_default is not None:
        kind = "a business" if config.business_customers_default else "not a business"
        return config.business_customers_default, (
            f"the customer's type is unknown; the policy treats it as {kind}"
        )
    return None, "the customer's type is unknown"


@dataclass
class ClaimOutcome:
    interest: Decimal | None = None
    interest_why: str = ""
    interest_text: str = ""
    """What the interest line on the customer's invoice says (``interest_why`` is for the
    bookkeeper and may name syncd's own go-live)."""
    compensation: Decimal | None = None
    compensation_why: str = ""
    review: str | None = None
    interest_review: str | None = None
    """Why the interest claim (not the compensation) waits for a person, besides
    ``review``."""
    notes: list[str] = field(default_factory=list)
    """Why something was not claimed (for the decision's reasons)."""
    missing_rate: str | None = None
    declined: str | None = None
    """Why no statutory interest can be claimed for this debt at all (its currency, a
    customer who is not a business, a missing rate), not merely none accrued yet."""


def claim(
    policy: PolicyConfig,
    rates: RatesConfig,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
    state: DunningState,
    today: date,
    go_live: date | None,
) -> ClaimOutcome:
    """Interest since the last claim (to ``today``) and the compensation if not yet
    claimed, for one step that claims or states statutory interest."""
    config = policy.interest
    assert config is not None
    out = ClaimOutcome()
    regime = config.regime.value.upper()
    if invoice.currency not in config.applies_to():
        out.declined = (
            f"{regime} statutory interest applies to {', '.join(config.applies_to())} "
            f"debts only, this one is in {invoice.currency}"
        )
        out.notes.append(f"no statutory interest: {out.declined}")
        return out
    is_business, basis = business_status(customer, config)
    if is_business is False:
        out.declined = f"{basis}; it is for business debts only"
        out.notes.append(f"no statutory interest: {out.declined}")
        return out
    if is_business is None:
        out.review = (
            f"{basis}: statutory interest is for business debts only; confirm the customer "
            "is a business (or set [interest] business_customers_default) before claiming"
        )
    floor = None if (go_live is None or policy.backdate_interest) else go_live
    after = state.interest_through or invoice.due_date
    floored = floor is not None and floor - timedelta(days=1) > after
    if floor is not None:
        after = max(after, floor - timedelta(days=1))
    try:
        calc = statutory_interest(config, rates, invoice, after, today, waived_windows(state.meta))
    except MissingRate as exc:
        out.missing_rate = out.declined = str(exc)
        out.notes.append(f"statutory interest not claimed: {exc}")
    else:
        if calc.amount > 0:
            out.interest, out.interest_why = calc.amount, calc.explanation
            out.interest_text = calc.line
            if floored and floor is not None:
                out.interest_why += f" (none before go-live, {floor.isoformat()})"
            out.interest_review = _restored(state, after, today)
    if state.compensation is None:
        _compensation(out, config, invoice, floor)
    return out


def _restored(state: DunningState, after: date, today: date) -> str | None:
    """The review reason of a claim taking days from a review window (days after ``after``
    through ``today``), or None."""
    hit = [(n, w) for n, w in review_windows(state.meta) if w[0] <= today and w[1] > after]
    if not hit:
        return None
    spans = ", ".join(f"{w[0].isoformat()} to {w[1].isoformat()} ({n})" for n, w in hit)
    return (
        f"this claim includes interest restored after it had been waived by mistake "
        f"({spans}): a person confirms it before it is charged"
    )


def _compensation(
    out: ClaimOutcome, config: InterestConfig, invoice: InvoiceSnapshot, floor: date | None
) -> None:
    comp, why = compensation(config, invoice)
    late_from = invoice.due_date + timedelta(days=1)
    if comp is not None and floor is not None and late_from < floor:
        out.notes.append(
            f"no fixed compensation: the debt was already late on {late_from.isoformat()}, "
            f"before go-live ({floor.isoformat()}); backdate_interest = true would claim it"
        )
    elif comp is not None:
        out.compensation = round_money(comp, invoice.currency)
        out.compensation_why = why
    else:
        out.notes.append(f"no fixed compensation: {why}")
