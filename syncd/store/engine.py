"""Opening the store: engine set-up per backend, migrations first, then sessions.

Every command that touches the store goes through :func:`open_store`, which upgrades the
schema before anything else runs, so a user never meets a half-migrated database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .cursors import restore_checkpoints

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock file, migrate as before
    fcntl = None  # type: ignore[assignment]

MIGRATIONS = Path(__file__).with_name("migrations")
#: pg_advisory_lock key held while migrating ("syncd" in ASCII).
_MIGRATION_LOCK_KEY = 0x73796E6364
#: Page size of a new SQLite store (SQLite's default is 4 KiB).
SQLITE_PAGE_SIZE = 16_384
#: What a WAL file may keep on disk once checkpointed. A backfill lets the WAL grow to 64 MiB
#: (:func:`syncd.store.cursors.relaxed_commit`); without a limit SQLite reuses the file
#: from its start but never shrinks it, so a small office's store kept 64 MiB it no longer
#: needed beside the database for good.
SQLITE_WAL_KEEP_BYTES = 4 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (syncd plan, reports) run while the daemon writes; foreign keys are off
    # by default in SQLite and the schema relies on cascades.
    cursor = dbapi_connection.cursor()
    # Only a new, empty database takes a page size (an existing one keeps its own): 16 KiB
    # pages hold several invoices' raw payloads (about 3 KiB each) where 4 KiB pages spilled
    # most of them into overflow pages, so a backfill writes and checkpoints less.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_KEEP_BYTES}")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            folder = Path(database).expanduser().parent
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", restore_checkpoints)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate, one process at a time: two syncd started together on a fresh store must not
    both create the tables (the second waits, then finds nothing to do)."""
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or not fcntl:
        yield
        return
    try:
        handle = open(f"{database}.migrate-lock", "a+b")  # noqa: SIM115 - closed below
    except OSError:  # an unwritable folder: SQLite itself reports it, clearly
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, migrate: bool = True) -> Store:
    with store_errors(url):
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


#: Exit statuses: the store's settings or environment are wrong (fix, then run again) ...
EXIT_STORE_CONFIG = 2
#: ... or the database server is not reachable right now (an outage; retry later).
EXIT_STORE_OUTAGE = 1


class StoreError(Exception):
    """The store cannot be opened; one line for the user, and the exit status to use."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Turns the driver's failures to open a store into one clear :class:`StoreError`."""
    try:
        yield
    except OSError as exc:  # the SQLite file's folder could not be created
        folder = Path(make_url(url).database or ".").expanduser().parent
        reason = (
            "a file of that name is in the way"
            if isinstance(exc, FileExistsError | NotADirectoryError)
            else exc.strerror or str(exc)
        )
        raise StoreError(
            f"cannot create the folder {folder} for the SQLite store: {reason}",
            EXIT_STORE_CONFIG,
        ) from None
    except OperationalError as exc:
        raise _describe_failure(url, exc) from None


def _describe_failure(url: str, exc: OperationalError) -> StoreError:
    parsed = make_url(url)
    detail = str(exc.orig or exc).strip()
    lowered = detail.lower()
    if parsed.get_backend_name() == "sqlite":
        problem = "it is read-only" if "readonly" in lowered else "is its folder writable?"
        return StoreError(
            f"cannot open the SQLite store {parsed.database}: {detail.splitlines()[0]} ({problem})",
            EXIT_STORE_CONFIG,
        )
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if "does not exist" in lowered and "database" in lowered:
        return StoreError(
            f"PostgreSQL database {parsed.database!r} does not exist on {where} "
            f"(create it, e.g. createdb {parsed.database})",
            EXIT_STORE_CONFIG,
        )
    if "password authentication failed" in lowered or "role" in lowered:
        return StoreError(
            f"PostgreSQL at {where} refused the login of user {parsed.username!r} "
            "(check the user and password in store.url)",
            EXIT_STORE_CONFIG,
        )
    if "connection refused" in lowered:
        reason = "connection refused (is the server running and accepting TCP/IP connections?)"
    elif "timeout" in lowered or "timed out" in lowered:
        reason = "the connection timed out"
    else:
        reason = detail.splitlines()[0]
    return StoreError(f"cannot connect to PostgreSQL at {where}: {reason}", EXIT_STORE_OUTAGE)
