"""The read path's cheaper ways to the same values: hour-cached stamps, twin-built records,
cached countries. Each must give exactly what the plain way gives, and say why it fails in the
same words."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.base import InvoiceLine, InvoiceRecord, InvoiceStatus
from connectors.kit import countries
from connectors.kit import trusted as kit_trusted
from connectors.quickbooks import fields, mapping, shapes, trusted


@pytest.fixture(autouse=True)
def _cold_caches() -> Iterator[None]:
    for cache in (fields._TIMES, fields._HOURS, fields._DATES):
        cache.clear()
    yield
    for cache in (fields._TIMES, fields._HOURS, fields._DATES):
        cache.clear()


def _plain(value: str) -> datetime:
    """The parse every stamp went through before the hour cache."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


OFFSETS = ["-07:00", "-08:00", "+00:00", "-00:00", "+05:45", "-09:30", "+14:00", "-12:00"]
HOURS = ["2024-02-29T00", "2025-12-31T23", "2026-03-08T02", "2026-11-01T01"]
MINUTES = [":00:00", ":59:59", ":30:15", ":14:59", ":45:01"]


def test_stamps_of_one_hour_come_from_its_cache_and_equal_the_plain_parse() -> None:
    for hour, offset in itertools.product(HOURS, OFFSETS):
        for into in MINUTES:
            stamp = f"{hour}{into}{offset}"
            found = fields.parse_time(stamp)
            assert found == _plain(stamp) and found.tzinfo is UTC, stamp
            assert repr(found) == repr(_plain(stamp))
        # The first stamp of the hour was parsed in full and seeded the hour; the rest
        # were that hour plus their minutes and seconds.
        assert fields._HOURS[hour + offset] == _plain(f"{hour}:00:00{offset}")
    assert not fields._TIMES  # the usual form never fills the whole-text cache


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("2026-01-01T10:60:00-07:00", "is not an ISO timestamp"),
        ("2026-01-01T10:00:60-07:00", "is not an ISO timestamp"),
        ("2026-01-01T10:5x:00-07:00", "is not an ISO timestamp"),
        ("2026-02-30T10:00:00-07:00", "is not an ISO timestamp"),
        ("2026-01-01T24:00:00-07:00", "is not an ISO timestamp"),
        ("2026-01-01T10:00:00.000000", "has no UTC offset"),
        ("", "is missing"),
        (None, "is missing"),
        (5, "is missing"),
    ],
)
def test_a_bad_stamp_fails_with_the_same_reason_warm_or_cold(stamp: object, reason: str) -> None:
    for warm in (False, True):
        if warm:  # the stamp's hour (where it has one) is already cached
            fields.parse_time("2026-01-01T10:00:00-07:00")
            fields.parse_time("2026-02-30T10:00:00-07:00".replace("02-30", "02-28"))
        with pytest.raises(fields.MappingError, match=reason):
            fields.parse_time(stamp)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-01-01T10:00:00Z",
        "2026-01-01T10:00:00.123-07:00",
        "2026-01-01 10:00:00-07:00",
        "2026-01-01T10:00:00+0700",
        "2026-01-01T10:00-07:00",
    ],
)
def test_other_forms_are_parsed_in_full_as_before(stamp: str) -> None:
    for _ in range(2):
        assert fields.parse_time(stamp) == _plain(stamp)
    assert not fields._HOURS


def test_records_are_built_as_twins_that_become_the_record_class() -> None:
    new = trusted.invoice_record
    assert "_twin" in new.__globals__, "the slot-by-slot constructor is in use"
    line = trusted.invoice_line("1", "Consulting", Decimal("12.50"), "5", None)
    assert type(line) is InvoiceLine
    assert line == InvoiceLine("1", "Consulting", Decimal("12.50"), "5")
    at = datetime(2026, 5, 5, 9, 11, 27, tzinfo=UTC)
    args = ("130", "1037", "7", None, None, "USD", Decimal(1), Decimal(0), InvoiceStatus.PAID, at)
    fast = new(*args, lines=(line,))
    assert type(fast) is InvoiceRecord and fast == InvoiceRecord(*args, lines=(line,))
    assert fast.raw == {} and fast.raw_json is None and fast.version is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.total = Decimal(2)  # type: ignore[misc]
    assert hash(line) == hash(InvoiceLine("1", "Consulting", Decimal("12.50"), "5", None))


@dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
class _WithWeakref:
    a: int
    b: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class _Base:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Derived(_Base):
    b: tuple[int, ...] = dataclasses.field(default_factory=tuple)


@pytest.mark.parametrize("cls", [_WithWeakref, _Derived])
def test_a_class_without_a_twin_gets_the_slot_by_slot_constructor(cls: type) -> None:
    new = kit_trusted._constructor(cls)
    assert "_twin" not in new.__globals__
    built = new(1)
    assert type(built) is cls and built == cls(1) and built.b == ()


def test_a_customers_country_is_resolved_once_per_spelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[object] = []
    resolve = countries.to_alpha2

    def to_alpha2(value: object) -> str | None:
        asked.append(value)
        return resolve(value)

    monkeypatch.setattr(mapping.countries, "to_alpha2", to_alpha2)
    mapping._COUNTRIES.clear()
    stamp = shapes.Meta(LastUpdatedTime="2026-05-05T02:11:27-07:00")
    for country in ("USA", "United Kingdom", "USA", None, "United Kingdom", None):
        customer = shapes.Customer(
            Id="1", DisplayName="Acme", MetaData=stamp, BillAddr=shapes.Address(Country=country)
        )
        record = mapping.customer_of(customer, "USD", {}, {})
        assert record.country == resolve(country)
    assert asked == ["USA", "United Kingdom", None]
    mapping._COUNTRIES.clear()
