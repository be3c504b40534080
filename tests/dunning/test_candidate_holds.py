"""Holds placed or released after an invoice was last planned make its customer a candidate
again: found from the holds side, for invoice and customer holds alike, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from syncd.dunning.holds import Scope, place_hold, release_holds
from syncd.dunning.snapshots import candidate_customers
from syncd.store import Store, ensure_org
from syncd.store.models import Customer, Invoice
from syncd.store.models import DunningState as StateRow

PLANNED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
FINGERPRINT = "f" * 64


def _world(store: Store) -> int:
    """Four customers of two open invoices each, all planned yesterday, none due."""
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "o", "quickbooks", PLANNED).id
        for c in range(4):
            s.execute(
                insert(Customer).values(
                    org_id=org_id,
                    provider_id=f"C{c}",
                    name=f"Customer {c}",
                    provider_updated_at=PLANNED,
                    fingerprint="x",
                    raw={},
                    synced_at=PLANNED,
                )
            )
            for n in range(2):
                s.execute(
                    insert(Invoice).values(
                        org_id=org_id,
                        provider_id=f"I{c}-{n}",
                        customer_provider_id=f"C{c}",
                        due_date=TODAY + timedelta(days=30),
                        currency="USD",
                        total=Decimal("10.00"),
                        balance=Decimal("10.00"),
                        status="open",
                        provider_updated_at=PLANNED,
                        fingerprint="x",
                        raw={},
                        synced_at=PLANNED,
                    )
                )
        for invoice_id in s.scalars(select(Invoice.id)):
            s.execute(
                insert(StateRow).values(
                    invoice_id=invoice_id,
                    state={},
                    next_action_on=TODAY + timedelta(days=20),
                    plan_fingerprint=FINGERPRINT,
                    updated_at=PLANNED,
                )
            )
    return org_id


def _candidates(store: Store, org_id: int) -> list[str]:
    with store.sessions() as s:
        return candidate_customers(s, org_id, TODAY, FINGERPRINT)


def _dispute(s: Session, org_id: int, scope: Scope, provider_id: str, now: datetime) -> None:
    place_hold(
        s,
        org_id=org_id,
        scope=scope,
        provider_id=provider_id,
        kind="dispute",
        until=None,
        reason=None,
        actor="t",
        now=now,
        today=TODAY,
    )


def test_holds_since_last_plan_make_candidates(store: Store) -> None:
    org_id = _world(store)
    assert _candidates(store, org_id) == []
    before, after = PLANNED - timedelta(hours=1), PLANNED + timedelta(hours=1)
    with store.sessions.begin() as s:
        _dispute(s, org_id, "invoice", "I0-1", after)
        _dispute(s, org_id, "customer", "C1", after)
        _dispute(s, org_id, "customer", "C2", before)  # before the last plan: nothing new
    assert _candidates(store, org_id) == ["C0", "C1"]
    with store.sessions.begin() as s:
        release_holds(
            s, org_id=org_id, scope="customer", provider_id="C2", actor="t", reason=None, now=after
        )
    assert _candidates(store, org_id) == ["C0", "C1", "C2"]
