"""Writing connector pages into the store, idempotently, with their cursor in one transaction.

A row is rewritten only when its content fingerprint changes, so applying the same page twice
leaves every table byte-for-byte unchanged (``synced_at`` included). A record older than the
stored one (a CDC page overlapping a query page, say) is ignored rather than rolling the row
back in time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

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

_CHUNK = 500


def to_jsonable(value: Any) -> Any:
    """Raw provider payloads may carry Decimal and datetime values; JSON columns need text."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def fingerprint(*parts: Any) -> str:
    blob = json.dumps(to_jsonable(list(parts)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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


_Row = TypeVar("_Row", Customer, Invoice, Payment)


def _existing(
    session: Session, model: type[_Row], org_id: int, keys: Sequence[str]
) -> dict[str, _Row]:
    found: dict[str, _Row] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = session.scalars(
            select(model).where(model.org_id == org_id, model.provider_id.in_(chunk))
        )
        for row in rows:
            found[_key(row)] = row
    return found


def _key(row: Customer | Invoice | Payment) -> str:
    if isinstance(row, Payment):
        return f"{row.kind}:{row.provider_id}"
    return row.provider_id


def _decide(
    existing: Customer | Invoice | Payment | None,
    updated_at: datetime,
    print_: str,
    result: PageResult,
) -> bool:
    """True if the row must be written."""
    if existing is None:
        result.inserted += 1
        return True
    if existing.fingerprint == print_:
        result.unchanged += 1
        return False
    if existing.provider_updated_at > updated_at:
        result.stale += 1
        return False
    result.updated += 1
    return True


def _customers(
    session: Session, org_id: int, records: Iterable[CustomerRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    existing = _existing(session, Customer, org_id, [r.provider_id for r in batch])
    for rec in batch:
        raw = to_jsonable(dict(rec.raw))
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
        print_ = fingerprint(fields, raw)
        row = existing.get(rec.provider_id)
        if not _decide(row, rec.updated_at, print_, result):
            continue
        if row is None:
            row = Customer(org_id=org_id, provider_id=rec.provider_id)
            session.add(row)
            existing[rec.provider_id] = row
        for name, value in fields.items():
            setattr(row, name, value)
        row.fingerprint, row.raw, row.synced_at = print_, raw, now
    return result


def _invoices(
    session: Session, org_id: int, records: Iterable[InvoiceRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    existing = _existing(session, Invoice, org_id, [r.provider_id for r in batch])
    for rec in batch:
        raw = to_jsonable(dict(rec.raw))
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
        lines = [
            (ln.provider_line_id, ln.description, ln.amount, ln.item_ref, ln.fee_key)
            for ln in rec.lines
        ]
        print_ = fingerprint(fields, lines, raw)
        row = existing.get(rec.provider_id)
        if not _decide(row, rec.updated_at, print_, result):
            continue
        if row is None:
            row = Invoice(org_id=org_id, provider_id=rec.provider_id)
            session.add(row)
            existing[rec.provider_id] = row
        for name, value in fields.items():
            setattr(row, name, value)
        row.lines = [
            InvoiceLine(
                position=pos,
                provider_line_id=ln.provider_line_id,
                description=ln.description,
                amount=ln.amount,
                item_ref=ln.item_ref,
                fee_key=ln.fee_key,
            )
            for pos, ln in enumerate(rec.lines)
        ]
        row.fingerprint, row.raw, row.synced_at = print_, raw, now
    return result


def _payments(
    session: Session, org_id: int, records: Iterable[PaymentRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    existing = _existing(session, Payment, org_id, [r.provider_id for r in batch])
    for rec in batch:
        raw = to_jsonable(dict(rec.raw))
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
        print_ = fingerprint(fields, allocations, raw)
        key = f"{rec.kind.value}:{rec.provider_id}"
        row = existing.get(key)
        if not _decide(row, rec.updated_at, print_, result):
            continue
        if row is None:
            row = Payment(org_id=org_id, provider_id=rec.provider_id, kind=rec.kind.value)
            session.add(row)
            existing[key] = row
        for name, value in fields.items():
            setattr(row, name, value)
        merged: dict[str, Decimal] = {}
        for invoice_id, amount in allocations:
            merged[invoice_id] = merged.get(invoice_id, Decimal(0)) + amount
        # Reconcile in place: replacing the collection would insert the new rows before the
        # orphans are deleted and trip the (payment, invoice) unique constraint.
        current = {a.invoice_provider_id: a for a in row.allocations}
        for invoice_id, alloc in current.items():
            if invoice_id not in merged:
                row.allocations.remove(alloc)
        for invoice_id, amount in merged.items():
            if invoice_id in current:
                current[invoice_id].amount = amount
            else:
                row.allocations.append(
                    PaymentAllocation(invoice_provider_id=invoice_id, amount=amount)
                )
        row.fingerprint, row.raw, row.synced_at = print_, raw, now
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
