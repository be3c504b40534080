"""Backfill pages may commit without waiting for the disk, and only those transactions."""

from __future__ import annotations

from sqlalchemy import text

from syncd.store import Store
from syncd.store.upserts import relaxed_commit


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
