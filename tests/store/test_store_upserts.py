"""The store keeps what providers send exactly once: upserts are idempotent and ordered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, select, text
from sqlalchemy.exc import DBAPIError

from connectors.base import (
    Allocation,
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceLine,
    InvoiceRecord,
    InvoiceStatus,
    Page,
    PaymentKind,
    PaymentRecord,
    SkippedRecord,
)
from syncd.store import Store, apply_page, ensure_org
from syncd.store.audit import record
from syncd.store.cursors import get_cursor
from syncd.store.models import AuditEntry, Invoice, Payment, SyncCursor

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _customer(
    pid: str, name: str, at: datetime = T0, email: str | None = "a@example.com"
) -> CustomerRecord:
    return CustomerRecord(
        provider_id=pid,
        name=name,
        email=email,
        currency="USD",
        updated_at=at,
        raw={"Id": pid, "DisplayName": name, "Balance": Decimal("10.50")},
    )


def _invoice(
    pid: str, balance: str = "100.00", at: datetime = T0, version: str = "0"
) -> InvoiceRecord:
    return InvoiceRecord(
        provider_id=pid,
        number=f"INV-{pid}",
        customer_provider_id="C1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        currency="USD",
        total=Decimal("100.00"),
        balance=Decimal(balance),
        status=InvoiceStatus.OPEN,
        updated_at=at,
        version=version,
        lines=(
            InvoiceLine("1", "Consulting", Decimal("60.00"), item_ref="5"),
            InvoiceLine("2", "Hosting", Decimal("40.00"), item_ref="6"),
        ),
        raw={"Id": pid, "TotalAmt": Decimal("100.00")},
    )


def _payment(pid: str, at: datetime = T0) -> PaymentRecord:
    return PaymentRecord(
        provider_id=pid,
        kind=PaymentKind.PAYMENT,
        customer_provider_id="C1",
        date=date(2026, 2, 1),
        currency="USD",
        amount=Decimal("70.00"),
        unapplied=Decimal("10.00"),
        updated_at=at,
        allocations=(Allocation("I1", Decimal("40.00")), Allocation("I2", Decimal("20.00"))),
        raw={"Id": pid},
    )


def _page(cursor: str = "c1") -> Page:
    return Page(
        customers=(_customer("C1", "Acme"), _customer("C2", "Beta", email=None)),
        invoices=(_invoice("I1"), _invoice("I2", "60.00")),
        payments=(_payment("P1"),),
        skipped=(),
        cursor=cursor,
    )


def dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    meta = MetaData()
    meta.reflect(conn)
    return {
        name: sorted(conn.execute(select(table)).all(), key=repr)
        for name, table in sorted(meta.tables.items())
        if name != "alembic_version"
    }


def test_same_page_twice_changes_nothing(store: Store) -> None:
    with store.sessions.begin() as s:
        org = ensure_org(s, "acme", "quickbooks", T0)
        first = apply_page(s, org.id, _page(), now=T0, stream="invoices")
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    with store.engine.connect() as conn:
        before = dump(conn)

    later = T0 + timedelta(hours=1)
    with store.sessions.begin() as s:
        org = ensure_org(s, "acme", "quickbooks", later)
        again = apply_page(s, org.id, _page(), now=later, stream="invoices")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    with store.engine.connect() as conn:
        after = dump(conn)
    assert after == before
    assert len(before["invoice_lines"]) == 4
    assert len(before["payment_allocations"]) == 2


def test_changed_record_is_updated_and_older_one_ignored(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        apply_page(s, org_id, _page(), now=T0)
    newer = T0 + timedelta(minutes=5)
    with store.sessions.begin() as s:
        res = apply_page(
            s, org_id, Page(invoices=(_invoice("I1", "25.00", newer, "1"),)), now=newer
        )
        assert res.updated == 1
    with store.sessions.begin() as s:
        # A stale copy (e.g. a query page that overlaps a CDC page) must not roll back the row.
        res = apply_page(s, org_id, Page(invoices=(_invoice("I1", "100.00", T0, "0"),)), now=newer)
        assert res.stale == 1
    with store.sessions() as s:
        inv = s.scalars(select(Invoice).where(Invoice.provider_id == "I1")).one()
        assert inv.balance == Decimal("25.00")
        assert inv.provider_version == "1"
        assert [ln.amount for ln in inv.lines] == [Decimal("60.00"), Decimal("40.00")]


def test_deletions_mark_rows_without_forgetting_them(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        apply_page(s, org_id, _page(), now=T0)
    gone = T0 + timedelta(days=1)
    page = Page(
        deletions=(
            Deletion(EntityKind.INVOICES, "I2", gone),
            Deletion(EntityKind.PAYMENTS, "P1", gone, PaymentKind.PAYMENT),
        )
    )
    for _ in range(2):
        with store.sessions.begin() as s:
            res = apply_page(s, org_id, page, now=gone)
    assert res.deleted == 0  # the second application found nothing left to delete
    with store.sessions() as s:
        inv = s.scalars(select(Invoice).where(Invoice.provider_id == "I2")).one()
        assert (inv.status, inv.balance) == ("deleted", Decimal(0))
        assert s.scalars(select(Payment)).one().deleted


def test_cursor_commits_with_rows_or_not_at_all(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
    with pytest.raises(RuntimeError), store.sessions.begin() as s:
        apply_page(s, org_id, _page("after-page-1"), now=T0, stream="invoices", backfill=True)
        raise RuntimeError("crash before commit")
    with store.sessions() as s:
        assert get_cursor(s, org_id, "invoices") is None
        assert s.scalars(select(Invoice)).all() == []
    with store.sessions.begin() as s:
        apply_page(s, org_id, _page("after-page-1"), now=T0, stream="invoices", backfill=True)
    with store.sessions() as s:
        cur = s.get(SyncCursor, (org_id, "invoices"))
        assert cur is not None and cur.backfill_resume == "after-page-1" and cur.cursor is None


def test_skipped_records_are_kept_with_their_reason(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        page = Page(
            invoices=(_invoice("I1"),),
            skipped=(SkippedRecord(EntityKind.INVOICES, "I9", "no CurrencyRef", {"Id": "I9"}),),
        )
        res = apply_page(s, org_id, page, now=T0)
    assert (res.inserted, res.skipped) == (1, 1)
    with store.engine.connect() as conn:
        rows = conn.execute(text("select provider_id, reason from skipped_records")).all()
    assert [tuple(r) for r in rows] == [("I9", "no CurrencyRef")]


def test_money_is_exact_and_floats_are_refused(store: Store) -> None:
    tricky = Decimal("1234567890123.456789")
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        inv = _invoice("I1")
        apply_page(s, org_id, Page(invoices=(inv,)), now=T0)
        row = s.scalars(select(Invoice)).one()
        row.balance = tricky
    with store.sessions() as s:
        assert s.scalars(select(Invoice)).one().balance == tricky
        total = s.scalar(select(Invoice.balance).where(Invoice.balance > Decimal("0.1")))
        assert isinstance(total, Decimal) and total == tricky
    with pytest.raises(Exception, match="Decimal"), store.sessions.begin() as s:
        s.scalars(select(Invoice)).one().balance = 0.1  # type: ignore[assignment]
        s.flush()


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="timezone-aware"), store.sessions.begin() as s:
        ensure_org(s, "acme", "quickbooks", datetime(2026, 1, 1))


def test_audit_log_is_append_only(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        record(s, at=T0, event="test", org_id=org_id, amount=Decimal("1.50"))
    with store.sessions() as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert entry.details == {"amount": "1.50"} and entry.at == T0
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("update audit_log set event = 'tampered'"))
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("delete from audit_log"))


def test_ensure_org_refuses_a_connector_change(store: Store) -> None:
    with store.sessions.begin() as s:
        ensure_org(s, "acme", "quickbooks", T0)
    with pytest.raises(ValueError, match="quickbooks"), store.sessions.begin() as s:
        ensure_org(s, "acme", "xero", T0)


def test_payment_allocations_follow_the_provider(store: Store) -> None:
    later = T0 + timedelta(minutes=1)
    moved = PaymentRecord(
        provider_id="P1",
        kind=PaymentKind.PAYMENT,
        customer_provider_id="C1",
        date=date(2026, 2, 1),
        currency="USD",
        amount=Decimal("70.00"),
        unapplied=Decimal("0.00"),
        updated_at=later,
        allocations=(Allocation("I1", Decimal("50.00")), Allocation("I3", Decimal("20.00"))),
        raw={"Id": "P1", "SyncToken": "1"},
    )
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        apply_page(s, org_id, Page(payments=(_payment("P1"),)), now=T0)
    with store.sessions.begin() as s:
        assert apply_page(s, org_id, Page(payments=(moved,)), now=later).updated == 1
    with store.sessions() as s:
        pay = s.scalars(select(Payment)).one()
        assert [(a.invoice_provider_id, a.amount) for a in pay.allocations] == [
            ("I1", Decimal("50.00")),
            ("I3", Decimal("20.00")),
        ]
