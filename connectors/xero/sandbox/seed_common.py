"""Small pieces every part of the seed uses: staff names, timestamps, "created" history."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from .models import Contact, HistoryRecord, Invoice

STAFF = ("Mia Fielding", "Tane Ngata", "Priya Raman")


def stamp(rng: random.Random, day: date, earliest_hour: int = 7, latest_hour: int = 19) -> datetime:
    seconds = rng.randrange(earliest_hour * 3600, latest_hour * 3600)
    millis = rng.randrange(1000)
    # Same instant as combine(day, 00:00 UTC) + timedelta(seconds, milliseconds), built directly.
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(0, seconds, millis * 1000)


def created_record(inv: Invoice, contact: Contact, user: str, at: datetime) -> HistoryRecord:
    what = "Invoice" if inv.type == "ACCREC" else "Bill"
    return HistoryRecord("Created", f"{what} to {contact.name} for {inv.total}.", user, at)
