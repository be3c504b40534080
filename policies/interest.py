"""Statutory interest on late commercial payments and the fixed compensation sums.

UK, Late Payment of Commercial Debts (Interest) Act 1998: simple interest at the
"reference rate" + 8 points. The Late Payment of Commercial Debts (Rate of Interest)
(No. 3) Order 2002 (SI 2002/1675) sets the reference rate for each six months as the
Bank of England base rate in force on the 31 December or 30 June immediately before
them, and the rate for a debt is the one for the six months in which statutory
interest starts to run: the day after the due date. So a debt due on 30 June takes the
rate of 30 June (for July to December), and one due on 31 December the rate of 31
December; that rate then applies for the whole life of the debt. Fixed compensation
(s.5A): GBP 40 for a debt under 1,000, GBP 70 from 1,000 to 9,999.99, GBP 100 from
10,000.

EU, Late Payment Directive 2011/7/EU: the ECB main refinancing rate in force on the
first calendar day of each half-year (1 January, 1 July) + 8 points, applied
half-year by half-year; fixed compensation EUR 40.

Rates come from the configured tables, never fetched. Interest accrues day by day on
the balance outstanding at the end of each day (reconstructed from the payment
history), summed exactly and rounded once, half up, to the minor unit.

Days can be waived in windows (a payment plan agreed without interest,
``interest_during_plan = false``): the window is kept in ``DunningState.meta`` under a
``interest-waived:`` key, so that the days before and after it stay claimable. A single
"claimed through" date could not say that: a zero claim through the plan's end would
also waive the interest that had accrued before the plan began.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from policies.money import ZERO, round_money
from policies.schema import InterestConfig, InterestRegime, RateEntry, RatesConfig
from policies.snapshot import InvoiceSnapshot

HUNDRED = Decimal(100)
#: ``DunningState.meta`` key prefix of a waived window of interest days.
WAIVER_PREFIX = "interest-waived:"
#: ``DunningState.meta`` key prefix of a window of days whose interest a claim takes only
#: after review (interest restored to a claim by a data migration: syncd/store/migrations
#: 0015); a claim covering none of its days is not held.
REVIEW_PREFIX = "interest-review:"

Window = tuple[date, date]
#: A segment's key: (balance, rate), ``WAIVED``, or None before the first day.
_Key = tuple[Decimal, Decimal] | str | None
WAIVED = "waived"


def waiver_entry(name: str, first: date, last: date) -> tuple[str, str]:
    """The meta entry that waives the days ``first`` to ``last`` (inclusive) for ``name``."""
    return f"{WAIVER_PREFIX}{name}", f"{first.isoformat()}/{last.isoformat()}"


def waived_windows(meta: Iterable[tuple[str, str]]) -> list[Window]:
    """The waived windows recorded in a state's meta, oldest first."""
    return sorted(window for _, window in _windows(meta, WAIVER_PREFIX))


def review_windows(meta: Iterable[tuple[str, str]]) -> list[tuple[str, Window]]:
    """``(name, window)`` of the days whose interest is claimed only once a person has
    approved it (``REVIEW_PREFIX``), oldest first."""
    return sorted(_windows(meta, REVIEW_PREFIX), key=lambda w: w[1])


def _windows(meta: Iterable[tuple[str, str]], prefix: str) -> list[tuple[str, Window]]:
    windows: list[tuple[str, Window]] = []
    for key, value in meta:
        if key.startswith(prefix):
            first, _, last = value.partition("/")
            name = key.removeprefix(prefix)
            windows.append((name, (date.fromisoformat(first), date.fromisoformat(last))))
    return windows


def _waived(day: date, windows: Sequence[Window]) -> bool:
    return any(first <= day <= last for first, last in windows)


def rate_in_force(table: Sequence[RateEntry], on: date) -> Decimal | None:
    """The rate of the latest entry that started on or before ``on``."""
    found: Decimal | None = None
    for entry in sorted(table, key=lambda e: e.since):
        if entry.since <= on:
            found = entry.percent
        else:
            break
    return found


def uk_reference_date(due: date) -> date:
    """The reference date for a debt due on ``due``: 31 Dec / 30 Jun immediately before
    the half-year in which interest starts to run, i.e. the half-year of the day after
    ``due`` (SI 2002/1675, see the module docstring): due 30 June -> 30 June."""
    starts = due + timedelta(days=1)
    if starts.month <= 6:
        return date(starts.year - 1, 12, 31)
    return date(starts.year, 6, 30)


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def uk_compensation(debt: Decimal) -> Decimal:
    if debt < 1000:
        return Decimal(40)
    if debt < 10000:
        return Decimal(70)
    return Decimal(100)


@dataclass(frozen=True, slots=True)
class InterestCalc:
    amount: Decimal
    currency: str
    start: date
    """First day of interest in this claim."""
    through: date
    days: int
    explanation: str
    line: str = ""
    """The explanation as the charge line on the customer's invoice says it: in full when
    short, else summarised (a claim across many balance or rate changes would otherwise be
    cut off mid-sentence by the line's length)."""


#: The longest explanation a charge line carries in full.
LINE_MAX = 200


class MissingRate(LookupError):
    """No rate-table entry covers the date the law says to use."""


def _rate_for_day(config: InterestConfig, rates: RatesConfig, due: date, day: date) -> Decimal:
    if config.regime is InterestRegime.UK:
        ref_date = uk_reference_date(due)
        base = rate_in_force(rates.boe_base, ref_date)
        if base is None:
            raise MissingRate(f"no Bank of England base rate in force on {ref_date.isoformat()}")
    else:
        ref_date = half_year_start(day)
        base = rate_in_force(rates.ecb_refi, ref_date)
        if base is None:
            raise MissingRate(f"no ECB reference rate in force on {ref_date.isoformat()}")
    return base + config.margin_points


def rate_gaps(
    config: InterestConfig, rates: RatesConfig, due: date, through: date
) -> list[tuple[str, date]]:
    """(table, date) for every reference date a claim from ``due`` to ``through`` needs
    and the table does not cover (no entry on or before it)."""
    if config.regime is InterestRegime.UK:
        ref = uk_reference_date(due)
        return [] if rate_in_force(rates.boe_base, ref) is not None else [("boe_base", ref)]
    gaps: list[tuple[str, date]] = []
    start = half_year_start(due + timedelta(days=1))
    while start <= through:
        if rate_in_force(rates.ecb_refi, start) is None:
            gaps.append(("ecb_refi", start))
        start = date(start.year + (start.month == 7), 7 if start.month == 1 else 1, 1)
    return gaps


def statutory_interest(
    config: InterestConfig,
    rates: RatesConfig,
    invoice: InvoiceSnapshot,
    after: date,
    through: date,
    waived: Sequence[Window] = (),
) -> InterestCalc:
    """Interest for the days ``d`` with ``max(after, due) < d <= through``, except the days
    inside a ``waived`` window (named in the explanation, counted in no total).

    Raises ``MissingRate`` when the table has no entry for a needed date.
    """
    first = max(after, invoice.due_date) + timedelta(days=1)
    cur = invoice.currency
    if first > through:
        return InterestCalc(ZERO, cur, first, through, 0, "no days to claim")
    total = ZERO
    day = first
    segments: list[str] = []
    seg_start = first
    seg_key: _Key = None
    days = 0
    while day <= through:
        key: _Key = WAIVED
        if not _waived(day, waived):
            balance = max(invoice.balance_on(day), ZERO)
            rate = _rate_for_day(config, rates, invoice.due_date, day)
            total += balance * rate / HUNDRED / config.day_basis
            key, days = (balance, rate), days + 1
        if seg_key is not None and key != seg_key:
            segments.append(_segment(seg_key, seg_start, day - timedelta(days=1), cur))
            seg_start = day
        seg_key = key
        day += timedelta(days=1)
    if seg_key is not None:
        segments.append(_segment(seg_key, seg_start, through, cur))
    regime = "UK Late Payment Act" if config.regime is InterestRegime.UK else "EU Directive"
    head = f"{regime} interest, simple, {config.day_basis}-day year: "
    explanation = head + "; ".join(segments)
    line = explanation
    if len(line) > LINE_MAX:
        line = f"{head}{days} day(s) from {first.isoformat()} to {through.isoformat()}"
    amount = round_money(total, cur)
    return InterestCalc(amount, cur, first, through, days, explanation, line)


def _segment(key: _Key, start: date, end: date, cur: str) -> str:
    n = (end - start).days + 1
    if not isinstance(key, tuple):
        return f"{n} day(s) from {start.isoformat()} waived"
    balance, rate = key
    return f"{n} day(s) from {start.isoformat()} on {balance} {cur} at {rate}%"


def compensation(config: InterestConfig, invoice: InvoiceSnapshot) -> tuple[Decimal | None, str]:
    """The fixed compensation sum for the invoice, or None with the reason."""
    if not config.compensation:
        return None, "compensation is not claimed by this policy"
    if config.regime is InterestRegime.UK:
        if invoice.currency != "GBP":
            return None, "UK fixed compensation is defined in GBP only"
        amount = uk_compensation(invoice.total)
        return amount, f"UK fixed compensation for a debt of {invoice.total} GBP"
    if invoice.currency != "EUR":
        return None, "EU fixed compensation is defined in EUR only"
    return Decimal(40), "EU Late Payment Directive fixed compensation"
