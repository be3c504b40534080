"""Migrations ship in the package and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from syncd.store import Store, upgrade
from syncd.store.engine import current_revision
from syncd.store.models import Base


def test_upgrade_is_repeatable_and_complete(store: Store) -> None:
    upgrade(store.engine)  # second time: nothing to do, no error
    assert current_revision(store.engine) == "0015"
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_and_migrations_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgresql_compresses_raw_payloads_with_lz4(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's TOAST compression only")
    with store.engine.connect() as conn:
        methods = dict(
            conn.exec_driver_sql(
                "SELECT c.relname, a.attcompression FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid WHERE a.attname = 'raw' "
                "AND c.relname IN ('customers', 'invoices', 'payments')"
            ).all()
        )
    assert methods == {"customers": "l", "invoices": "l", "payments": "l"}
