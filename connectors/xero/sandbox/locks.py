"""Lock dates: nothing dated on or before them can be created or changed.

Xero's refusal, as recorded from the API (xeroizer issue #92): "The document date cannot be
before the end of year lock date, currently set at 31-Jul-2013". The period lock date binds
every user but advisers; an app connects as a standard user, so both bind it here.
"""

from __future__ import annotations

from datetime import date

from .organisation import Organisation


def _day(value: date) -> str:
    return value.strftime("%d-%b-%Y")


def lock_refusal(org: Organisation, day: date) -> str | None:
    """Xero's message if a document dated ``day`` is locked, else None."""
    year_end, period = org.end_of_year_lock_date, org.period_lock_date
    if year_end is not None and day <= year_end:
        return (
            "The document date cannot be before the end of year lock date, "
            f"currently set at {_day(year_end)}"
        )
    if period is not None and day <= period:
        return (
            "The document date cannot be before the period lock date, "
            f"currently set at {_day(period)}"
        )
    return None
