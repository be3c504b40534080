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
from .cursors import get_cursor, set_cursor
from .models import (
    Customer,
    Invoice,
    InvoiceLine,
    Org,
    Payment,
    PaymentAllocation,
    SkippedRecordRow,
)


def to_jsonable(value: Any) -> Any:
    """Raw provider payloads may carry Decimal and datetime values; JSON columns need text."""
    return json.loads(bulk.dump(value))


fingerprint = bulk.fingerprint
#: Importers of these from here predate :mod:`syncd.store.cursors`.
__all__ = ["PageResult", "apply_page", "ensure_org", "get_cursor", "set_cursor", "to_jsonable"]


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
    known: tuple[int, str, Any] | None, stamp: Any, print_: str, result: PageResult
) -> bool:
    """True if the row must be written (``stamp``: the driver value of provider_updated_at)."""
    if known is None:
        result.inserted += 1
        return True
    if known[1] == print_:
        result.unchanged += 1
        return False
    if known[2] > stamp:
        result.stale += 1
        return False
    result.updated += 1
    return True


class _Staged:
    """The rows of one page that must be written, decided against the stored copies."""

    def __init__(self, known: bulk.Known) -> None:
        self.known = known
        #: Row ids stored before this page, for the keys that had a row.
        self.stored = {key: k[0] for key, k in known.items()}
        self.rows: dict[str, tuple[Any, ...]] = {}

    def offer(self, key: str, print_: str, stamp: Any, result: PageResult) -> bool:
        """Whether the record must be written; the caller then builds its row (only then:
        an unchanged record costs its fingerprint and nothing else)."""
        if not _decide(self.known.get(key), stamp, print_, result):
            return False
        # A second copy in the same page is decided against the first, as if it were stored.
        self.known[key] = (self.stored.get(key, 0), print_, stamp)
        return True


def _raw_text(rec: CustomerRecord | InvoiceRecord | PaymentRecord) -> str:
    """The payload's text as received when the connector kept it; else encoded once."""
    return rec.raw_json if rec.raw_json is not None else bulk.dump_raw(rec.raw)


_CUSTOMER_COLUMNS = (
    "org_id", "provider_id", "name", "email", "currency", "locale", "groups", "country",
    "is_business", "phone", "address", "active", "deleted", "provider_updated_at",
    "fingerprint", "raw", "synced_at",
)  # fmt: skip
_INVOICE_COLUMNS = (
    "org_id", "provider_id", "number", "customer_provider_id", "issue_date", "due_date",
    "currency", "total", "balance", "status", "provider_version", "provider_updated_at",
    "pay_url", "fingerprint", "raw", "synced_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "invoice_id", "position", "provider_line_id", "description", "amount", "item_ref", "fee_key",
)  # fmt: skip
_PAYMENT_COLUMNS = (
    "org_id", "kind", "provider_id", "customer_provider_id", "date", "currency", "amount",
    "unapplied", "deleted", "provider_updated_at", "fingerprint", "raw", "synced_at",
)  # fmt: skip
_ALLOCATION_COLUMNS = ("payment_id", "invoice_provider_id", "amount")


def _customers(
    session: Session, org_id: int, records: Iterable[CustomerRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    if not batch:
        return result
    bind = bulk.binder(session)
    table = bulk.table_of(Customer)
    staged = _Staged(bulk.existing(session, table, org_id, [r.provider_id for r in batch]))
    synced = bind.stamp(now)
    dump = bind.json
    for rec in batch:
        stamp = bind.stamp(rec.updated_at)
        fields = (
            rec.name, rec.email, rec.currency, rec.locale, tuple(rec.groups), rec.country,
            rec.is_business, rec.phone, tuple(rec.address), rec.active, rec.deleted, stamp,
        )  # fmt: skip
        raw_text = _raw_text(rec)
        print_ = bulk.record_fingerprint(fields, raw_text)
        if not staged.offer(rec.provider_id, print_, stamp, result):
            continue
        staged.rows[rec.provider_id] = (
            org_id, rec.provider_id, rec.name, rec.email, rec.currency, rec.locale,
            dump(list(rec.groups)), rec.country, rec.is_business, rec.phone,
            dump(list(rec.address)), rec.active, rec.deleted, stamp, print_, raw_text, synced,
        )  # fmt: skip
    bulk.upsert(
        session, table, ("org_id", "provider_id"), _CUSTOMER_COLUMNS, list(staged.rows.values()),
        json_columns=frozenset({"groups", "address", "raw"}),
    )  # fmt: skip
    return result


def _invoices(
    session: Session, org_id: int, records: Iterable[InvoiceRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    if not batch:
        return result
    bind = bulk.binder(session)
    table = bulk.table_of(Invoice)
    staged = _Staged(bulk.existing(session, table, org_id, [r.provider_id for r in batch]))
    synced = bind.stamp(now)
    lines: dict[str, list[tuple[Any, ...]]] = {}
    for rec in batch:
        stamp = bind.stamp(rec.updated_at)
        line_keys = tuple(
            (ln.provider_line_id, ln.description, ln.amount, ln.item_ref, ln.fee_key)
            for ln in rec.lines
        )
        fields = (
            rec.number, rec.customer_provider_id, rec.issue_date, rec.due_date, rec.currency,
            rec.total, rec.balance, rec.status.value, rec.version, stamp, rec.pay_url, line_keys,
        )  # fmt: skip
        raw_text = _raw_text(rec)
        print_ = bulk.record_fingerprint(fields, raw_text)
        if not staged.offer(rec.provider_id, print_, stamp, result):
            continue
        staged.rows[rec.provider_id] = (
            org_id, rec.provider_id, rec.number, rec.customer_provider_id,
            bind.day(rec.issue_date), bind.day(rec.due_date), rec.currency,
            bind.money(rec.total), bind.money(rec.balance), rec.status.value, rec.version,
            stamp, rec.pay_url, print_, raw_text, synced,
        )  # fmt: skip
        lines[rec.provider_id] = [
            (pos, ln[0], ln[1], bind.money(ln[2]), ln[3], ln[4]) for pos, ln in enumerate(line_keys)
        ]
    if staged.rows:
        conflict = ("org_id", "provider_id")
        ids = bulk.upsert(
            session, table, conflict, _INVOICE_COLUMNS, list(staged.rows.values()),
            json_columns=frozenset({"raw"}),
        )  # fmt: skip
        children = [(ids[pid], *child) for pid in ids for child in lines[pid]]
        stored = [ids[pid] for pid in ids if pid in staged.stored]
        line_table = bulk.table_of(InvoiceLine)
        bulk.replace_children(session, line_table, "invoice_id", stored, _LINE_COLUMNS, children)
    return result


def _payments(
    session: Session, org_id: int, records: Iterable[PaymentRecord], now: datetime
) -> PageResult:
    result = PageResult()
    batch = list(records)
    if not batch:
        return result
    bind = bulk.binder(session)
    table = bulk.table_of(Payment)
    keys = [f"{r.kind.value}:{r.provider_id}" for r in batch]
    staged = _Staged(bulk.existing(session, table, org_id, keys, kind=True))
    synced = bind.stamp(now)
    merged_by_key: dict[str, dict[str, Decimal]] = {}
    for key, rec in zip(keys, batch, strict=True):
        stamp = bind.stamp(rec.updated_at)
        allocations = tuple(sorted((a.invoice_provider_id, a.amount) for a in rec.allocations))
        fields = (
            rec.customer_provider_id, rec.date, rec.currency, rec.amount, rec.unapplied,
            rec.deleted, stamp, allocations,
        )  # fmt: skip
        raw_text = _raw_text(rec)
        print_ = bulk.record_fingerprint(fields, raw_text)
        if not staged.offer(key, print_, stamp, result):
            continue
        staged.rows[key] = (
            org_id, rec.kind.value, rec.provider_id, rec.customer_provider_id,
            bind.day(rec.date), rec.currency, bind.money(rec.amount), bind.money(rec.unapplied),
            rec.deleted, stamp, print_, raw_text, synced,
        )  # fmt: skip
        merged: dict[str, Decimal] = {}
        for invoice_id, amount in allocations:
            merged[invoice_id] = merged.get(invoice_id, Decimal(0)) + amount
        merged_by_key[key] = merged
    if staged.rows:
        conflict = ("org_id", "kind", "provider_id")
        ids = bulk.upsert(
            session, table, conflict, _PAYMENT_COLUMNS, list(staged.rows.values()),
            json_columns=frozenset({"raw"}), kind=True,
        )  # fmt: skip
        children = [
            (ids[key], invoice_id, bind.money(amount))
            for key in ids
            for invoice_id, amount in merged_by_key[key].items()
        ]
        stored = [ids[key] for key in ids if key in staged.stored]
        bulk.replace_children(
            session, bulk.table_of(PaymentAllocation), "payment_id", stored,
            _ALLOCATION_COLUMNS, children,
        )  # fmt: skip
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
