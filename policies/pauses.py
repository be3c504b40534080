"""Pauses (promise to pay) and disputes, and the dunning clock they stop.

An invoice or customer on hold gets no action at all. When the hold ends, dunning
resumes *where it stood*: the days spent on hold after the due date are taken off the
invoice's "dunning day", so an invoice paused one day after its first reminder gets its
next reminder as many days after resuming as it would have had anyway, rather than
jumping straight to the final notice. Late-fee periods run on the same clock, so no fee
accrues while a customer's promise to pay is being honoured. Statutory interest is a
legal entitlement and uses real calendar days instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from policies.snapshot import DunningState, Hold, HoldKind


def active_hold(holds: Iterable[Hold], day: date) -> Hold | None:
    """The hold in force on ``day``; a dispute wins over a pause (it needs a human)."""
    found = [h for h in holds if h.covers(day)]
    if not found:
        return None
    return sorted(found, key=lambda h: (h.kind is not HoldKind.DISPUTE, h.start))[0]


def held_days(holds: Iterable[Hold], after: date, through: date) -> int:
    """Number of days ``d`` with ``after < d <= through`` covered by at least one hold."""
    first = after + timedelta(days=1)
    end = through + timedelta(days=1)  # exclusive
    spans: list[tuple[date, date]] = []
    for h in holds:
        lo = max(h.start, first)
        hi = min(h.until, end) if h.until is not None else end
        if lo < hi:
            spans.append((lo, hi))
    spans.sort()
    total = 0
    cur_lo: date | None = None
    cur_hi: date | None = None
    for lo, hi in spans:
        if cur_hi is None or cur_lo is None or lo > cur_hi:
            if cur_hi is not None and cur_lo is not None:
                total += (cur_hi - cur_lo).days
            cur_lo, cur_hi = lo, hi
        else:
            cur_hi = max(cur_hi, hi)
    if cur_hi is not None and cur_lo is not None:
        total += (cur_hi - cur_lo).days
    return total


def dunning_day(due_date: date, today: date, holds: Iterable[Hold]) -> int:
    """Days past due on the dunning clock: calendar days minus days on hold after due."""
    return (today - due_date).days - held_days(holds, due_date, today)


def date_of_dunning_day(due_date: date, holds: Iterable[Hold], n: int, latest: date) -> date:
    """The first date on which the dunning clock reads ``n`` or more (so fee periods can
    be dated, e.g. against go-live); ``latest`` is a date known to be on or after it."""
    lo = due_date + timedelta(days=n)  # holds only ever make the date later
    hi = max(latest, lo)
    while lo < hi:
        mid = lo + timedelta(days=(hi - lo).days // 2)
        if dunning_day(due_date, mid, holds) >= n:
            hi = mid
        else:
            lo = mid + timedelta(days=1)
    return lo


def pause(
    holds: tuple[Hold, ...], *, on: date, until: date, by: str = "", reason: str = ""
) -> tuple[Hold, ...]:
    """Add a promise-to-pay pause from ``on`` until (not including) ``until``."""
    if until <= on:
        raise ValueError("a pause must end after it starts")
    return (*holds, Hold(HoldKind.PAUSE, on, until, by, reason))


def dispute(
    holds: tuple[Hold, ...], *, on: date, by: str = "", reason: str = ""
) -> tuple[Hold, ...]:
    """Mark disputed from ``on`` until resumed."""
    return (*holds, Hold(HoldKind.DISPUTE, on, None, by, reason))


def resume(holds: tuple[Hold, ...], *, on: date) -> tuple[Hold, ...]:
    """End every hold in force on or after ``on``; history before ``on`` is kept."""
    out: list[Hold] = []
    for h in holds:
        if h.start >= on:
            continue  # never took effect
        if h.until is None or h.until > on:
            out.append(replace(h, until=on))
        else:
            out.append(h)
    return tuple(out)


def with_holds(state: DunningState, holds: tuple[Hold, ...], *, replan_on: date) -> DunningState:
    """The state with new invoice-level holds, due for planning again on ``replan_on``
    (normally today), so that the store's candidate selection picks the change up.
    Customer-level holds live on the customer; after changing them, set
    ``next_action_on`` of the customer's open invoices the same way."""
    nxt = state.next_action_on
    return replace(
        state, holds=holds, next_action_on=replan_on if nxt is None else min(nxt, replan_on)
    )
