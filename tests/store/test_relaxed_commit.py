"""Backfill pages may commit without waiting for the disk, and only those transactions."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from syncd.store import Store
from syncd.store.cursors import BACKFILL_WAL_BYTES, DEFAULT_WAL_PAGES, relaxed_commit
from syncd.store.engine import SQLITE_PAGE_SIZE, SQLITE_WAL_KEEP_BYTES


def test_relaxed_commit_lasts_one_transaction(store: Store) -> None:
    postgres = store.engine.dialect.name == "postgresql"
    with store.sessions.begin() as session:
        relaxed_commit(session)
        if postgres:
            assert session.scalar(text("SHOW synchronous_commit")) == "off"
    with store.sessions.begin() as session:
        if postgres:
            # SET LOCAL: the pooled connection's next transaction is durable again.
            assert session.scalar(text("SHOW synchronous_commit")) == "on"
        else:
            assert session.scalar(text("PRAGMA synchronous")) == 1  # NORMAL, as before


def test_a_backfill_page_checkpoints_sqlite_less_often_and_only_it(store: Store) -> None:
    """A backfill's SQLite commits leave up to 64 MiB in the WAL; the pooled connection's
    next (ordinary) transaction checkpoints at SQLite's default again."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.sessions.begin() as session:
        relaxed_commit(session)
        relaxed_commit(session)  # a second call in the same transaction changes nothing
        first = session.connection().connection.dbapi_connection
        pages = session.scalar(text("PRAGMA wal_autocheckpoint"))
        assert pages == BACKFILL_WAL_BYTES // SQLITE_PAGE_SIZE
    with store.sessions.begin() as session:
        assert session.connection().connection.dbapi_connection is first  # the same one
        assert session.scalar(text("PRAGMA wal_autocheckpoint")) == DEFAULT_WAL_PAGES


def test_a_new_sqlite_store_has_16_kib_pages(store: Store) -> None:
    """Larger pages keep a row's raw payload in the row's page, not in overflow pages."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.sessions() as session:
        assert session.scalar(text("PRAGMA page_size")) == SQLITE_PAGE_SIZE == 16_384


def test_the_wal_a_backfill_grew_shrinks_once_checkpointed(store: Store) -> None:
    """A backfill's WAL (up to 64 MiB) is cut back to a few MiB once ordinary commits have
    checkpointed it, instead of staying that size beside the database for good."""
    if store.engine.dialect.name != "sqlite":
        return
    database = store.engine.url.database
    assert database is not None
    wal = Path(f"{database}-wal")
    blob = "x" * 65_536
    with store.sessions.begin() as session:
        session.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)"))
    with store.sessions.begin() as session:
        relaxed_commit(session)
        for n in range(400):  # about 25 MiB: more than SQLite's default checkpoint, no more
            session.execute(text("INSERT INTO scratch (body) VALUES (:b)"), {"b": f"{n}{blob}"})
    grown = wal.stat().st_size
    assert grown > 4 * SQLITE_WAL_KEEP_BYTES  # the backfill's transaction did not checkpoint
    for n in range(2):  # the first ordinary commit checkpoints, the next one restarts the WAL
        with store.sessions.begin() as session:
            session.execute(text("DELETE FROM scratch WHERE id = :n"), {"n": n + 1})
    assert wal.stat().st_size <= SQLITE_WAL_KEEP_BYTES < grown
