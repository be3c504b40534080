"""The seed's fast paths give exactly what the library calls they replace gave (issue 19).

``seeddraws`` replaces ``randrange``/``choice``/``sample``/``choices`` with direct
``getrandbits`` draws, ``seedstamps`` replaces ``entity_time`` with a per-hour cache, and the
planner sorts its events by time alone: each must be indistinguishable from the original,
since a seed must keep producing the same company.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.quickbooks.sandbox.clock import SandboxClock
from connectors.quickbooks.sandbox.company import Company
from connectors.quickbooks.sandbox.lists import install_lists
from connectors.quickbooks.sandbox.seed import _time_order
from connectors.quickbooks.sandbox.seeddraws import (
    Weighted,
    below,
    bits_of,
    choice,
    sample_small,
)
from connectors.quickbooks.sandbox.seedstamps import SeedStamps
from connectors.quickbooks.sandbox.seedwriter import seed_writes
from connectors.quickbooks.sandbox.wire import entity_time


@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_draws_follow_random_random_stream(seed: int) -> None:
    ours, theirs = random.Random(seed), random.Random(seed)
    bits = bits_of(ours)
    items = [str(n) for n in range(9)]
    weighted = Weighted((("USD", 82), ("CAD", 7), ("EUR", 6), ("GBP", 5)))
    for step in range(3000):
        width = 1 + step * 37 % 99_991
        assert below(bits, width) == theirs.randrange(width)
        assert 10 + below(bits, 9989) == theirs.randrange(10, 9999)
        assert choice(bits, items) == theirs.choice(items)
        k = step % 5
        assert sample_small(bits, items, k) == theirs.sample(items, k=k)
        assert weighted.draw(ours) == theirs.choices(weighted.values, weights=[82, 7, 6, 5], k=1)[0]
    assert ours.random() == theirs.random()  # still in step after all of that


def test_draws_refuse_generators_that_draw_otherwise() -> None:
    class Other(random.Random):
        pass

    with pytest.raises(TypeError):
        bits_of(Other(1))
    with pytest.raises(ValueError, match="pool path"):
        sample_small(bits_of(random.Random(1)), list(range(30)), 3)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/London", "America/Toronto"])
def test_seed_stamps_are_entity_time(zone: str) -> None:
    tz = ZoneInfo(zone)
    stamps = SeedStamps(tz)
    rng = random.Random(zone)
    # Eighteen months of moments, thick around both kinds of DST change, in and out of the
    # zone, with and without microseconds and fold.
    start = datetime(2025, 1, 1, tzinfo=tz)
    moments = [start + timedelta(seconds=rng.randrange(0, 540 * 86400)) for _ in range(4000)]
    for change in ("2025-03-09", "2025-03-30", "2025-11-02", "2025-10-26", "2026-03-08"):
        day = datetime.fromisoformat(change).replace(tzinfo=tz)
        moments += [day + timedelta(minutes=m, microseconds=m % 7) for m in range(0, 240, 7)]
    moments += [m.replace(fold=1) for m in moments[-300:]]
    moments += [m.astimezone(UTC) for m in moments[:500]]
    for moment in moments:
        assert stamps(moment) == entity_time(moment, tz), moment


def test_events_sorted_by_time_keep_creation_order_among_ties() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    rng = random.Random(3)
    base = datetime(2026, 11, 1, 0, 30, tzinfo=tz)
    events = []
    for seq in range(2000):
        when = base + timedelta(minutes=rng.randrange(0, 180))
        if seq % 11 == 0:  # the same instant in another zone, as a clamped sign-up stamp is
            when = when.astimezone(UTC)
        events.append((when, seq, print))
    expected = sorted(events, key=lambda event: (event[0], event[1]))
    _time_order(events)
    assert [event[1] for event in events] == [event[1] for event in expected]


def test_shared_references_follow_a_renamed_customer() -> None:
    """The bulk writer shares one CustomerRef and one address copy per customer among its
    rows: a customer renamed or moved between two writes gets new ones, and the earlier rows
    keep what they were made with (as the API rules leave them)."""
    company = Company(
        realm_id="1234",
        clock=SandboxClock(datetime(2026, 5, 5, 17, 0, tzinfo=UTC), frozen=True),
        tz=ZoneInfo("America/Los_Angeles"),
        home_currency="USD",
        country="US",
    )
    install_lists(company, datetime(2024, 5, 5, tzinfo=UTC))
    customer = company.create_customer(
        {"DisplayName": "Old Name", "BillAddr": {"Line1": "1 Old St.", "City": "Austin"}}
    )
    writer = seed_writes(company, replay=False)
    line = {
        "Description": "Consulting",
        "Amount": Decimal("175.00"),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "Qty": Decimal(1)},
    }
    body = {"CustomerRef": {"value": customer["Id"]}, "TxnDate": "2026-05-01", "Line": [line]}
    first = writer.create_invoice(body)
    company.update_customer(
        {
            "Id": customer["Id"],
            "SyncToken": customer["SyncToken"],
            "DisplayName": "New Name",
            "BillAddr": {"Line1": "2 New St.", "City": "Denver"},
        },
        sparse=True,
    )
    second = writer.create_invoice(body)
    assert first["CustomerRef"] == {"value": customer["Id"], "name": "Old Name"}
    assert second["CustomerRef"] == {"value": customer["Id"], "name": "New Name"}
    assert first["BillAddr"]["Line1"] == "1 Old St."
    assert second["BillAddr"]["Line1"] == "2 New St."
    assert second["BillAddr"] is not company.entities["Customer"][customer["Id"]]["BillAddr"]
