"""The DBAPI write path: raw JSON kept as received, every stored field in the fingerprint,
values stored exactly as the ORM types would store them (read back through the ORM)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from connectors.base import InvoiceLine, InvoiceRecord, InvoiceStatus, Page
from syncd.store import Store, apply_page, ensure_org
from syncd.store.models import Invoice

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RAW = '{"Id": "I1",   "TotalAmt": 100.10, "Note": "caf\\u00e9"}'


def _invoice(**changes: object) -> InvoiceRecord:
    inv = InvoiceRecord(
        provider_id="I1",
        number="1001",
        customer_provider_id="C1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        currency="USD",
        total=Decimal("100.10"),
        balance=Decimal("100.10"),
        status=InvoiceStatus.OPEN,
        updated_at=T0,
        version="0",
        lines=(InvoiceLine("1", "Consulting", Decimal("100.10"), item_ref="5"),),
        raw={"Id": "I1"},
        raw_json=RAW,
    )
    return dataclasses.replace(inv, **changes)


def _apply(store: Store, inv: InvoiceRecord) -> tuple[int, int, int]:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        r = apply_page(s, org_id, Page(invoices=(inv,)), now=T0)
    return r.inserted, r.updated, r.unchanged


def test_raw_json_is_stored_as_received_and_values_read_back_exactly(store: Store) -> None:
    later = (T0 + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-8)))
    assert _apply(store, _invoice(updated_at=later)) == (1, 0, 0)
    with store.sessions() as s:
        inv = s.scalars(select(Invoice)).one()
        stored_raw = s.execute(text("SELECT raw FROM invoices")).scalar_one()
        assert inv.raw == {"Id": "I1", "TotalAmt": 100.10, "Note": "café"}
        assert inv.total == Decimal("100.10") and inv.issue_date == date(2026, 1, 1)
        assert inv.provider_updated_at == T0 + timedelta(hours=1)
        assert inv.provider_updated_at.tzinfo is not None
        assert [(ln.amount, ln.item_ref) for ln in inv.lines] == [(Decimal("100.10"), "5")]
        if store.engine.dialect.name == "sqlite":
            assert stored_raw == RAW, "the bytes the provider sent, not a re-encoding"


@pytest.mark.parametrize(
    "change",
    [
        {"number": "1002"},
        {"due_date": date(2026, 2, 1)},
        {"balance": Decimal("50.00")},
        {"status": InvoiceStatus.PAID},
        {"pay_url": "https://pay.example/1"},
        {"lines": (InvoiceLine("1", "Consulting", Decimal("100.10"), item_ref="6"),)},
        {"raw_json": RAW.replace("caf", "cafe")},
    ],
)
def test_any_stored_change_rewrites_the_row(store: Store, change: dict[str, object]) -> None:
    assert _apply(store, _invoice()) == (1, 0, 0)
    assert _apply(store, _invoice()) == (0, 0, 1)
    assert _apply(store, _invoice(**change)) == (0, 1, 0)


def test_money_with_more_places_than_the_store_keeps_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        _apply(store, _invoice(balance=Decimal("1.0000001")))
    with store.sessions() as s:
        assert s.scalars(select(Invoice)).first() is None
