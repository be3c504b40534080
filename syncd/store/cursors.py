"""Sync cursors, and how a backfill page's transaction commits (cheaper than an ordinary one).

A page and the cursor that follows it commit in one transaction: a crash resumes after the
last committed page. The backfill-only settings here make those commits cheaper without
weakening that: a crash may lose the last few pages (read again from the older cursor), never
part of one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from .models import SyncCursor

#: What a backfill's commits may leave in the WAL before SQLite copies it into the database
#: file: 64 MiB, where SQLite's default is 1,000 pages (4 MiB at 4 KiB pages).
BACKFILL_WAL_BYTES = 64 << 20
#: SQLite's own default, which every other transaction keeps.
DEFAULT_WAL_PAGES = 1_000
#: Key, in a pooled connection's ``info``, of "this connection checkpoints like a backfill".
WIDE_WAL = "syncd.backfill_wal"


def relaxed_commit(session: Session) -> None:
    """Let a backfill page's commit cost less than an ordinary commit.

    PostgreSQL: the commit returns before its WAL reaches disk. A crash can then lose the
    last few such commits, but never part of one nor one without the ones before it (WAL is
    written in order, and any later ordinary commit flushes it), so the lost pages are simply
    read again from the older cursor. A 100,000-invoice backfill otherwise waits for one disk
    flush per page.

    SQLite already commits without a flush (WAL, ``synchronous=NORMAL``), but every commit
    that leaves more than 4 MiB in the WAL copies it into the database file and flushes
    both: a page of 500 invoices writes about that much, so nearly every page paid for a
    checkpoint. A backfill's connection checkpoints every 64 MiB instead (the WAL file grows
    to that size once; readers are not blocked); the pool gives the connection back with
    SQLite's default (:func:`restore_checkpoints`), so the next ordinary commit checkpoints
    what the backfill left.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    elif dialect == "sqlite":
        pooled = session.connection().connection
        if not pooled.info.get(WIDE_WAL):
            _set_wal_pages(pooled.dbapi_connection, backfill_wal_pages(pooled.dbapi_connection))
            pooled.info[WIDE_WAL] = True


def backfill_wal_pages(dbapi_connection: Any) -> int:
    """:data:`BACKFILL_WAL_BYTES` in this database's pages."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA page_size")
        return max(DEFAULT_WAL_PAGES, BACKFILL_WAL_BYTES // int(cursor.fetchone()[0]))
    finally:
        cursor.close()


def restore_checkpoints(dbapi_connection: Any, record: Any) -> None:
    """Pool check-in hook (SQLite): a connection a backfill widened checkpoints as usual again."""
    if record.info.pop(WIDE_WAL, False) and dbapi_connection is not None:
        _set_wal_pages(dbapi_connection, DEFAULT_WAL_PAGES)


def _set_wal_pages(dbapi_connection: Any, pages: int) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
    finally:
        cursor.close()


#: The tables a backfill fills from nothing, whose planner statistics it leaves stale.
_BACKFILLED = ("customers", "invoices", "invoice_lines", "payments", "payment_allocations")


def refresh_statistics(session: Session) -> None:
    """Give PostgreSQL's planner the row counts a backfill just created (PostgreSQL only).

    Autovacuum would analyse the new rows eventually, but the first dunning cycle usually runs
    straight after a backfill: without statistics the candidate query looks up 100,000
    invoices' states one at a time (seconds) instead of joining them (a fraction of one).
    SQLite's plans are pinned by its indexes (migration 0011), so it is left alone.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(_BACKFILLED)}"))


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
