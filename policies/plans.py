"""Payment plans and settlements: the schedule, the split, where payments go, and verdicts.

Pure functions over dates and ``Decimal`` amounts in the currency's minor unit; the caller
(syncd) stores plans and decides what to send. The rules, all chosen to be checkable by hand:

* the instalments add up exactly to the covered balance: a deposit (if any) comes first, the
  rest is split evenly rounded *down* to the minor unit and the last instalment takes the
  remainder, so it is never smaller than the others;
* a monthly schedule keeps the first date's day of the month, clamped to short months
  (31 January, 28 February, 31 March);
* payments fill instalments in due-date order, each payment in date order; an instalment is
  met on the day the payment that completes it was made;
* an instalment still not met ``grace_days`` after its due date breaks the plan (after the day
  the customer was sent the plan, if that came later).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .money import ZERO, minor_unit

_EVERY = re.compile(r"^(?:(month|week)|(\d{1,3})\s*days?)$")


class PlanError(ValueError):
    """Input that cannot make a plan; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Every:
    """How often instalments fall due: ``months`` or ``days`` (one of them non-zero)."""

    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        if self.months:
            return "month"
        return "week" if self.days == 7 else f"{self.days}days"


def parse_every(text: str) -> Every:
    """``month``, ``week`` or ``Ndays`` (``14days``)."""
    found = _EVERY.match(text.strip().lower())
    if found is None:
        raise PlanError(f"--every must be month, week or Ndays (e.g. 14days), not {text!r}")
    if found.group(1) == "month":
        return Every(months=1)
    if found.group(1) == "week":
        return Every(days=7)
    days = int(found.group(2))
    if not 1 <= days <= 366:
        raise PlanError(f"--every {text!r}: the number of days must be 1 to 366")
    return Every(days=days)


def add_months(day: date, months: int, anchor_day: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def due_dates(first: date, count: int, every: Every) -> list[date]:
    """``count`` due dates starting on ``first``."""
    if count < 1:
        raise PlanError("a plan needs at least one instalment")
    if every.months:
        return [add_months(first, every.months * i, first.day) for i in range(count)]
    return [first + timedelta(days=every.days * i) for i in range(count)]


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int  # 0 is the deposit, if there is one
    due: date
    amount: Decimal


def split(
    balance: Decimal, currency: str, count: int, deposit: Decimal | None = None
) -> list[Decimal]:
    """Deposit (if any) first, then ``count`` amounts adding up exactly to ``balance``."""
    unit = minor_unit(currency)
    if balance <= ZERO:
        raise PlanError("there is nothing left to pay on these invoices")
    if balance != balance.quantize(unit):
        raise PlanError(f"the balance {balance} is not in whole {currency} minor units")
    if count < 1:
        raise PlanError("--instalments must be at least 1")
    amounts: list[Decimal] = []
    rest = balance
    if deposit is not None:
        if deposit <= ZERO or deposit != deposit.quantize(unit):
            raise PlanError(f"the deposit must be a positive amount in {currency} ({unit} steps)")
        if deposit >= balance:
            raise PlanError(
                f"the deposit {deposit} {currency} is not below the covered balance "
                f"{balance} {currency}"
            )
        amounts.append(deposit)
        rest = balance - deposit
    each = (rest / count).quantize(unit, rounding=ROUND_DOWN)
    if each <= ZERO:
        raise PlanError(
            f"{rest} {currency} cannot be split into {count} instalments of at least {unit}"
        )
    amounts.extend([each] * (count - 1))
    amounts.append(rest - each * (count - 1))
    return amounts


def schedule(
    balance: Decimal,
    currency: str,
    *,
    count: int,
    every: Every,
    first: date,
    deposit: Decimal | None = None,
) -> list[Instalment]:
    """The deposit falls due on ``first`` and the instalments one interval apart after it;
    without a deposit the first instalment is due on ``first``."""
    amounts = split(balance, currency, count, deposit)
    dates = due_dates(first, len(amounts), every)
    start = 0 if deposit is not None else 1
    return [
        Instalment(start + i, day, amount)
        for i, (day, amount) in enumerate(zip(dates, amounts, strict=True))
    ]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far one instalment is paid, and the day it was met (None while short)."""

    instalment: Instalment
    paid: Decimal
    met_on: date | None

    @property
    def short(self) -> Decimal:
        """In the instalment's own minor unit: stored payments carry six decimal places, and
        this figure is written into the note on the customer's invoice. Rounded up, so an
        instalment that is not met never shows nothing short (half a cent short is a cent)."""
        return (self.instalment.amount - self.paid).quantize(
            self.instalment.amount, rounding=ROUND_UP
        )


def allocate(
    instalments: Sequence[Instalment], payments: Sequence[tuple[date, Decimal]]
) -> list[Progress]:
    """Payments (date, amount), in date order, fill instalments in due-date order."""
    ordered = sorted(instalments, key=lambda i: (i.due, i.number))
    paid = [ZERO] * len(ordered)
    met: list[date | None] = [None] * len(ordered)
    index = 0
    for day, amount in sorted(payments, key=lambda p: p[0]):
        left = amount
        while left > ZERO and index < len(ordered):
            take = min(left, ordered[index].amount - paid[index])
            paid[index] += take
            left -= take
            if paid[index] == ordered[index].amount:
                met[index] = day
                index += 1
    return [Progress(i, p, m) for i, p, m in zip(ordered, paid, met, strict=True)]


class PlanVerdict(StrEnum):
    KEPT = "kept"
    COMPLETED = "completed"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Standing:
    verdict: PlanVerdict
    #: The instalment that broke the plan, or the next one to pay while it is kept.
    instalment: Instalment | None
    reason: str


def pay_by(due: date, grace_days: int, told_on: date | None = None) -> date:
    """The last day an instalment may be paid without breaking the plan: ``grace_days``
    after its due date, or after the day the customer was sent the plan if that came
    later."""
    start = due if told_on is None else max(due, told_on)
    return start + timedelta(days=grace_days)


def standing(
    progress: Sequence[Progress], today: date, grace_days: int, told_on: date | None = None
) -> Standing:
    """Kept, completed or broken. ``told_on`` is the day the customer was sent the plan: an
    instalment that fell due before it has its grace days counted from that day, so that a
    confirmation approved late cannot break the plan the day it arrives."""
    for p in progress:
        deadline = pay_by(p.instalment.due, grace_days, told_on)
        if p.met_on is not None and p.met_on <= deadline:
            continue
        if today > deadline:
            return Standing(
                PlanVerdict.BROKEN,
                p.instalment,
                f"instalment {p.instalment.number} of {p.instalment.amount} due "
                f"{p.instalment.due.isoformat()} was not paid by {deadline.isoformat()} "
                f"({p.short} short)",
            )
        if p.met_on is None:
            return Standing(PlanVerdict.KEPT, p.instalment, "on schedule")
    return Standing(PlanVerdict.COMPLETED, None, "every instalment paid")


ReminderKind = Literal["before", "due", "missed"]


class PaymentPlanSettings(BaseModel):
    """``[policies.NAME.payment_plan]``: each instalment's own short reminder sequence and
    what a broken plan leads to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    before_due_days: Annotated[int | None, Field(ge=1, le=60)] = 3
    """Remind this many days before an instalment is due (None: no such reminder)."""
    on_due: bool = True
    """Remind on the due day itself."""
    after_miss_days: Annotated[int | None, Field(ge=1, le=60)] = 1
    """Remind this many days after an unpaid due date, within the grace days."""
    grace_days: Annotated[int, Field(ge=0, le=90)] = 5
    on_break: Literal["resume", "escalate"] = "resume"
    """Resume dunning from the stage the invoices had reached, or escalate them."""
    interest_during_plan: bool = True
    """Statutory interest keeps accruing while a plan is kept (a legal entitlement); when
    false, the interest of the days the plan was in place (agreement day to the day it
    breaks or is cancelled) is waived, and the interest from before the plan stays
    claimable."""
    confirmation_template: str = "plan-confirmation"
    reminder_template: str = "plan-reminder"


def reminder_due(
    progress: Progress,
    today: date,
    settings: PaymentPlanSettings,
    told_on: date | None = None,
) -> ReminderKind | None:
    """The latest reminder this unpaid instalment has reached by ``today`` (one per kind,
    ever, is the caller's business: the newest only, so a daemon that was down does not
    send a stale "coming up" after the due day). "Due today" is the answer on the due day
    only: the day after, until "missed" is reached (or for good, when the policy sends no
    "missed"), there is no reminder to send, since any wording would be untrue; a cycle
    that did not run on the due day has missed that reminder.

    ``told_on`` is the day the customer was sent the plan. As for the grace days
    (``standing``), an instalment already due by then is "missed" only ``after_miss_days``
    after that day: a customer who has just been told about their plan is not told in the
    same breath that they missed a payment. Nor is it "due today": it fell due before they
    had the plan in writing."""
    if progress.met_on is not None:
        return None
    due = progress.instalment.due
    start = due if told_on is None else max(due, told_on)
    reached: ReminderKind | None = None
    days: dict[ReminderKind, date] = {}
    if settings.before_due_days is not None:
        days["before"] = due - timedelta(days=settings.before_due_days)
    if settings.on_due:
        days["due"] = due
    if settings.after_miss_days is not None and settings.after_miss_days <= settings.grace_days:
        days["missed"] = start + timedelta(days=settings.after_miss_days)
    for which, on in days.items():  # in the order the kinds come
        if which == "due" and (today != on or (told_on is not None and on < told_on)):
            continue
        if today >= on:
            reached = which
    if reached == "before" and today >= due:
        return None  # the day passed; a "coming up" now would be wrong
    return reached


class SettlementVerdict(StrEnum):
    PENDING = "pending"
    MET = "met"
    LAPSED = "lapsed"


def settlement_verdict(
    agreed: Decimal, payments: Sequence[tuple[date, Decimal]], pay_by: date, today: date
) -> tuple[SettlementVerdict, date | None]:
    """Met on the day payments made by ``pay_by`` reach the agreed amount; lapsed once
    ``pay_by`` has passed without that."""
    total = ZERO
    for day, amount in sorted(payments, key=lambda p: p[0]):
        if day > pay_by:
            break
        total += amount
        if total >= agreed:
            return SettlementVerdict.MET, day
    if today > pay_by:
        return SettlementVerdict.LAPSED, None
    return SettlementVerdict.PENDING, None
