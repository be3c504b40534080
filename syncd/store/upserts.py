"""Writing connector pages into the store, idempotently, with their cursor in one transaction.

A row is rewritten only when its content fingerprint changes, so applying the same page twice
leaves every table byte-for-byte unchanged (``synced_at`` included). A record older than the
stored one (a CDC page overlapping a query page, say) is ignored rather than rolling the row
back in time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import (
    CustomerRecord,
    Deletion,
    EntityKind,
    InvoiceRecord,
    InvoiceStatus,
    Page,
    PaymentRecord,
)

from . import bulk
from .models import (
    Customer,
    Invoice,
    InvoiceLine,
    Org,
    Payment,
    PaymentAllocation,
    SkippedRecordRow,
    SyncCursor,
)


def to_jsonable(value: Any) -> Any:
    """Raw provider payloads may carry Decimal and datetime values; JSON columns need text."""
    return json.loads(bulk.dump(value))


fingerprint = bulk.fingerprint


@dataclass
class PageResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    deleted: int = 0
    skipped: int = 0

    def add(self, other: PageResult) -> None:
        for name in ("inserted", "updated", "unchanged", "stale", "deleted", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def ensure_org(session: Session, name: str, connector: str, now: datetime) -> Org:
    org = session.scalar(select(Org).where(Org.name == name))
    if org is None:
        org = Org(name=name, connector=connector, created_at=now, token_version=0)
        session.add(org)
        session.flush()
    elif org.connector != connector:
        raise ValueError(
            f"org {name!r} is stored as a {org.connector} connection, config says {connector}"
        )
    return org


def _decide(
    known: tuple[int, str, datetime] | None,
    updated_at: datetime,
    print_: str,
    result: PageResult,
) -> bool:
    """True if the row must be written."""
    if known is None:
        result.inserted += 1
        return True
    if known[1] == print_:
        result.unchanged += 1
        return False
    if known[2] > updated_at:
        result.stale += 1
        return False
    result.updated += 1
    return True


def _stage(
    known: bulk.Known,
    writes: dict[str, dict[str, Any]],
    key: str,
    row: dict[str, Any],
    result: PageResult,
) -> bool:
    """Decide one record against the stored copy (or an earlier copy in the same page)."""
    if not _decide(known.get(key), row["provider_updated_at"], row["fingerprint"], result):
        return False
    previous = known.get(key)
    # A second copy in the same page is decided against the first, as if it were stored.
    known[key] = (previous[0] if previous else 0, row["fingerprint"], row["provider_updated_at"])
    writes[key] = row
    return True


def _customers(
    session: Session, org_id: int, records: Iterable[CustomerRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    table = bulk.table_of(Customer)
    known = bulk.existing(session, table, org_id, [r.provider_id for r in batch])
    writes: dict[str, dict[str, Any]] = {}
    for rec in batch:
        fields: dict[str, Any] = {
            "name": rec.name,
            "email": rec.email,
            "currency": rec.currency,
            "locale": rec.locale,
            "groups": list(rec.groups),
            "country": rec.country,
            "is_business": rec.is_business,
            "phone": rec.phone,
            "address": list(rec.address),
            "active": rec.active,
            "deleted": rec.deleted,
            "provider_updated_at": rec.updated_at,
        }
        raw_text = bulk.dump(dict(rec.raw))
        row = fields | {
            "org_id": org_id,
            "provider_id": rec.provider_id,
            "fingerprint": bulk.record_fingerprint(fields, raw_text),
            "raw_text": raw_text,
            "synced_at": now,
        }
        _stage(known, writes, rec.provider_id, row, result)
    bulk.upsert(session, table, ("org_id", "provider_id"), list(writes.values()))
    return result


def _invoices(
    session: Session, org_id: int, records: Iterable[InvoiceRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    table = bulk.table_of(Invoice)
    known = bulk.existing(session, table, org_id, [r.provider_id for r in batch])
    writes: dict[str, dict[str, Any]] = {}
    lines: dict[str, list[dict[str, Any]]] = {}
    for rec in batch:
        fields: dict[str, Any] = {
            "number": rec.number,
            "customer_provider_id": rec.customer_provider_id,
            "issue_date": rec.issue_date,
            "due_date": rec.due_date,
            "currency": rec.currency,
            "total": rec.total,
            "balance": rec.balance,
            "status": rec.status.value,
            "provider_version": rec.version,
            "provider_updated_at": rec.updated_at,
            "pay_url": rec.pay_url,
        }
        line_keys = [
            (ln.provider_line_id, ln.description, ln.amount, ln.item_ref, ln.fee_key)
            for ln in rec.lines
        ]
        raw_text = bulk.dump(dict(rec.raw))
        row = fields | {
            "org_id": org_id,
            "provider_id": rec.provider_id,
            "fingerprint": bulk.record_fingerprint([fields, line_keys], raw_text),
            "raw_text": raw_text,
            "synced_at": now,
        }
        if _stage(known, writes, rec.provider_id, row, result):
            lines[rec.provider_id] = [
                {
                    "position": pos,
                    "provider_line_id": ln.provider_line_id,
                    "description": ln.description,
                    "amount": ln.amount,
                    "item_ref": ln.item_ref,
                    "fee_key": ln.fee_key,
                }
                for pos, ln in enumerate(rec.lines)
            ]
    if writes:
        bulk.upsert(session, table, ("org_id", "provider_id"), list(writes.values()))
        ids = bulk.ids_for(session, table, org_id, writes)
        children = [child | {"invoice_id": ids[pid]} for pid in writes for child in lines[pid]]
        bulk.replace_children(
            session, bulk.table_of(InvoiceLine), "invoice_id", [ids[p] for p in writes], children
        )
    return result


def _payments(
    session: Session, org_id: int, records: Iterable[PaymentRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    table = bulk.table_of(Payment)
    known = bulk.existing(session, table, org_id, [r.provider_id for r in batch], kind=True)
    writes: dict[str, dict[str, Any]] = {}
    merged_by_key: dict[str, dict[str, Decimal]] = {}
    for rec in batch:
        fields: dict[str, Any] = {
            "customer_provider_id": rec.customer_provider_id,
            "date": rec.date,
            "currency": rec.currency,
            "amount": rec.amount,
            "unapplied": rec.unapplied,
            "deleted": rec.deleted,
            "provider_updated_at": rec.updated_at,
        }
        allocations = sorted((a.invoice_provider_id, a.amount) for a in rec.allocations)
        raw_text = bulk.dump(dict(rec.raw))
        key = f"{rec.kind.value}:{rec.provider_id}"
        row = fields | {
            "org_id": org_id,
            "kind": rec.kind.value,
            "provider_id": rec.provider_id,
            "fingerprint": bulk.record_fingerprint([fields, allocations], raw_text),
            "raw_text": raw_text,
            "synced_at": now,
        }
        if _stage(known, writes, key, row, result):
            merged: dict[str, Decimal] = {}
            for invoice_id, amount in allocations:
                merged[invoice_id] = merged.get(invoice_id, Decimal(0)) + amount
            merged_by_key[key] = merged
    if writes:
        bulk.upsert(session, table, ("org_id", "kind", "provider_id"), list(writes.values()))
        ids = bulk.ids_for(
            session, table, org_id, [w["provider_id"] for w in writes.values()], kind=True
        )
        children = [
            {"payment_id": ids[key], "invoice_provider_id": invoice_id, "amount": amount}
            for key in writes
            for invoice_id, amount in merged_by_key[key].items()
        ]
        bulk.replace_children(
            session,
            bulk.table_of(PaymentAllocation),
            "payment_id",
            [ids[k] for k in writes],
            children,
        )
    return result


def _deletions(session: Session, org_id: int, deletions: Iterable[Deletion]) -> PageResult:
    result = PageResult()
    for d in deletions:
        if d.entity is EntityKind.INVOICES:
            inv = session.scalar(
                select(Invoice).where(
                    Invoice.org_id == org_id, Invoice.provider_id == d.provider_id
                )
            )
            if inv is None or inv.status == InvoiceStatus.DELETED.value:
                continue
            if inv.provider_updated_at > d.deleted_at:
                result.stale += 1
                continue
            inv.status, inv.balance = InvoiceStatus.DELETED.value, Decimal(0)
            inv.provider_updated_at = d.deleted_at
            inv.fingerprint = fingerprint("deleted", d.deleted_at)
        elif d.entity is EntityKind.CUSTOMERS:
            cust = session.scalar(
                select(Customer).where(
                    Customer.org_id == org_id, Customer.provider_id == d.provider_id
                )
            )
            if cust is None or cust.deleted:
                continue
            cust.deleted, cust.active = True, False
            cust.provider_updated_at = d.deleted_at
            cust.fingerprint = fingerprint("deleted", d.deleted_at)
        else:
            stmt = select(Payment).where(
                Payment.org_id == org_id, Payment.provider_id == d.provider_id
            )
            if d.kind is not None:
                stmt = stmt.where(Payment.kind == d.kind.value)
            changed = False
            for pay in session.scalars(stmt):
                if pay.deleted:
                    continue
                pay.deleted, pay.provider_updated_at = True, d.deleted_at
                pay.fingerprint = fingerprint("deleted", d.deleted_at)
                changed = True
            if not changed:
                continue
        result.deleted += 1
    return result


def apply_page(
    session: Session,
    org_id: int,
    page: Page,
    *,
    now: datetime,
    stream: str | None = None,
    backfill: bool = False,
) -> PageResult:
    """Write one page and, if ``stream`` is given, its cursor, in the caller's transaction.

    Customers go first so that a page's invoices can be joined to them immediately.
    """
    result = PageResult()
    result.add(_customers(session, org_id, page.customers, now))
    result.add(_invoices(session, org_id, page.invoices, now))
    result.add(_payments(session, org_id, page.payments, now))
    result.add(_deletions(session, org_id, page.deletions))
    for skipped in page.skipped:
        session.add(
            SkippedRecordRow(
                org_id=org_id,
                entity=skipped.entity.value,
                provider_id=skipped.provider_id,
                reason=skipped.reason,
                raw=to_jsonable(dict(skipped.raw)),
                seen_at=now,
            )
        )
        result.skipped += 1
    if stream is not None and page.cursor is not None:
        set_cursor(session, org_id, stream, page.cursor, now=now, backfill=backfill)
    session.flush()
    return result


def get_cursor(session: Session, org_id: int, stream: str) -> SyncCursor | None:
    return session.get(SyncCursor, (org_id, stream))


def set_cursor(
    session: Session, org_id: int, stream: str, value: str, *, now: datetime, backfill: bool
) -> None:
    row = session.get(SyncCursor, (org_id, stream))
    if row is None:
        row = SyncCursor(org_id=org_id, stream=stream, updated_at=now)
        session.add(row)
    if backfill:
        if row.backfill_resume == value:
            return
        row.backfill_resume = value
    else:
        if row.cursor == value:
            return
        row.cursor = value
    row.updated_at = now
