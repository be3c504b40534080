"""The write decision's lookup of stored rows: right rows per kind, through the unique index.

Payments are unique on (org_id, kind, provider_id); a lookup that names no kind cannot probe
that index by provider id, and scanned every payment of the org on every page (a backfill's
cost grew with the square of its size).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from connectors.base import Page, PaymentKind, PaymentRecord
from syncd.store import Store, apply_page, bulk, ensure_org
from syncd.store.models import Payment

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _payment(kind: PaymentKind, amount: str, **changes: Any) -> PaymentRecord:
    rec = PaymentRecord(
        provider_id="7",  # QuickBooks numbers payments and credit memos apart: ids collide
        kind=kind,
        customer_provider_id="C1",
        date=date(2026, 2, 1),
        currency="USD",
        amount=Decimal(amount),
        unapplied=Decimal(0),
        updated_at=T0,
        raw={"Id": "7"},
        raw_json=f'{{"Id": "7", "TotalAmt": {amount}}}',
    )
    return dataclasses.replace(rec, **changes)


def _apply(store: Store, *payments: PaymentRecord) -> tuple[int, int, int]:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        r = apply_page(s, org_id, Page(payments=payments), now=T0)
    return r.inserted, r.updated, r.unchanged


def test_a_payment_and_a_credit_note_with_one_id_are_decided_apart(store: Store) -> None:
    payment = _payment(PaymentKind.PAYMENT, "10.00")
    credit = _payment(PaymentKind.CREDIT_NOTE, "3.50")
    assert _apply(store, payment, credit) == (2, 0, 0)
    assert _apply(store, payment, credit) == (0, 0, 2)
    later = T0 + timedelta(hours=1)
    changed = dataclasses.replace(credit, amount=Decimal("4.00"), updated_at=later)
    assert _apply(store, payment, changed) == (0, 1, 1)
    with store.sessions() as s:
        found = bulk.existing(
            s, bulk.table_of(Payment), 1, ["payment:7", "credit_note:7", "payment:8"], kind=True
        )
    assert sorted(found) == ["credit_note:7", "payment:7"]
    assert found["payment:7"][0] != found["credit_note:7"][0]


def test_the_lookup_probes_the_unique_index_by_kind_and_id(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan; PostgreSQL plans tiny tables by sequential scan")
    _apply(store, _payment(PaymentKind.PAYMENT, "10.00"))
    statements: list[str] = []

    @event.listens_for(store.engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(statements.append)

    store.engine.dispose()
    with store.sessions() as s:
        bulk.existing(s, bulk.table_of(Payment), 1, ["payment:7", "credit_note:9"], kind=True)
        lookups = [q for q in statements if q.startswith("SELECT id, provider_id")]
        assert len(lookups) == 1
        conn = s.connection().connection.dbapi_connection
        assert conn is not None
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {lookups[0]}"))
    assert "kind=? AND provider_id=?" in plan, plan
