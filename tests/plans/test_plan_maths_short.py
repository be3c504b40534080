"""A broken plan's reason is written into a note on the customer's invoice: its figures must be
in the currency's minor unit even though stored payments carry six decimal places."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policies.plans import Instalment, allocate


def test_short_is_in_the_instalments_minor_unit() -> None:
    inst = Instalment(1, date(2026, 12, 1), Decimal("730.80"))
    (progress,) = allocate([inst], [(date(2026, 12, 1), Decimal("100.000000"))])
    assert str(progress.short) == "630.80"
    yen = Instalment(1, date(2026, 12, 1), Decimal("7308"))
    (progress,) = allocate([yen], [(date(2026, 12, 1), Decimal("8.000000"))])
    assert str(progress.short) == "7300"
