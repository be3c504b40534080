"""Set-based writes for pages of records: one statement per batch, not one ORM flush per row.

Each page costs one narrow SELECT (id, fingerprint, timestamp of the rows it names), one
executemany ``INSERT ... ON CONFLICT DO UPDATE ... WHERE changed`` for the rows that changed
and one for their child rows. The ``WHERE`` repeats the decision made in Python (fingerprint
differs and the stored copy is not newer), so a concurrent writer can never roll a row back
in time either.

The statements go straight to the DBAPI cursor of the session's own connection, so they run
inside the session's transaction (a page and its cursor still commit together), with values
the caller converted once (:mod:`syncd.store.rawbind`): SQLAlchemy's per-row parameter
processing cost more than the database's work. Rows are tuples in the order of ``columns``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

import msgspec
from sqlalchemy import Table
from sqlalchemy.orm import Session

from .rawbind import Binder

_CHUNK = 500
# Statements are built only from our own table metadata (S608 below); values are bound.
#: Bumped whenever the fingerprinted encoding changes (every row is then rewritten once).
FINGERPRINT_VERSION = b"v3\x1e"


def table_of(model: type[Any]) -> Table:
    """A mapped class's table (typed as a plain FromClause by SQLAlchemy)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _plain(value: Any) -> Any:
    """What the JSON encoder cannot write itself: Decimal as its exact text, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump(value: Any, *, canonical: bool = False) -> str:
    """The JSON text of ``value``; ``canonical`` sorts keys and drops spaces (fingerprints)."""
    if canonical:
        return json.dumps(value, default=_plain, sort_keys=True, separators=(",", ":"))
    return json.dumps(value, default=_plain)


def _unknown(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


_RAW = msgspec.json.Encoder(enc_hook=_unknown, decimal_format="string")


def dump_raw(value: Any) -> str:
    """A raw payload's JSON text, for records that came without ``raw_json``.

    msgspec writes Decimal as its exact text and dates in ISO form, as :func:`dump` does,
    about ten times faster than the standard encoder (only the spacing differs).
    """
    return _RAW.encode(value).decode()


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(dump(list(parts), canonical=True).encode()).hexdigest()


#: Fields are typed by position, so a Decimal written as a JSON number and a str as a JSON
#: string never collide; aware datetimes are written in ISO form with their offset.
_FIELDS = msgspec.json.Encoder(decimal_format="number")


#: hashlib lets go of the GIL to hash this many bytes or more (CPython's HASHLIB_GIL_MINSIZE).
#: A raw payload is usually 3 KiB: hashed in one piece, the writer then queued for the GIL
#: behind the page readers' decoding, about 5 s of a 100,000-invoice backfill's wall time for
#: a fraction of a second of hashing. Pieces below the limit hash the same bytes, so the
#: digest is the same, without letting go.
_GIL_BYTES = 2048


def record_fingerprint(fields: tuple[Any, ...], raw_text: str) -> str:
    """A record's normalised fields and its raw payload's text.

    msgspec's JSON of a tuple of str/Decimal/date/datetime/bool/None/tuples is unambiguous
    (strings are quoted and escaped, ``Decimal('1.10')`` keeps its digits as ``1.10``) and
    about six times cheaper than ``repr``, so any change to a stored field changes the digest.
    """
    digest = hashlib.sha256(FINGERPRINT_VERSION)
    digest.update(_FIELDS.encode(fields))
    digest.update(b"\x1e")
    data = raw_text.encode()
    if len(data) < _GIL_BYTES:
        digest.update(data)
    else:
        view = memoryview(data)
        for start in range(0, len(view), _GIL_BYTES - 1):
            digest.update(view[start : start + _GIL_BYTES - 1])
    return digest.hexdigest()


def binder(session: Session) -> Binder:
    return Binder(session.get_bind().dialect.name)


def _cursor(session: Session) -> Any:
    """A cursor on the connection (and so the transaction) the session is using.

    Pending ORM objects are flushed first, as ``session.execute`` would have done.
    """
    session.flush()
    return session.connection().connection.cursor()


#: key -> (row id, fingerprint, provider_updated_at as the driver returns it)
Known = dict[str, tuple[int, str, Any]]


def existing(
    session: Session, table: Table, org_id: int, keys: Sequence[str], *, kind: bool = False
) -> Known:
    """Only the columns the write decision needs, for the provider ids a page names.

    With ``kind`` the keys are ``kind:provider_id``. The kinds are named in the query too:
    payments are unique on (org_id, kind, provider_id), and without a condition on ``kind``
    neither SQLite nor PostgreSQL can probe that index by provider id, so each page scanned
    every payment of the org (a backfill's cost grew with the square of its size).
    """
    mark = binder(session).mark
    if kind:
        pairs = [k.split(":", 1) for k in keys]
        kinds = list(dict.fromkeys(p[0] for p in pairs))
        ids = list(dict.fromkeys(p[1] for p in pairs))
    else:
        kinds, ids = [], list(dict.fromkeys(keys))
    extra = ", kind" if kind else ""
    by_kind = f"AND kind IN ({', '.join([mark] * len(kinds))}) " if kind else ""
    found: Known = {}
    cur = _cursor(session)
    try:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            cur.execute(
                f"SELECT id, provider_id, fingerprint, provider_updated_at{extra} "  # noqa: S608
                f"FROM {table.name} WHERE org_id = {mark} {by_kind}"
                f"AND provider_id IN ({', '.join([mark] * len(chunk))})",
                [org_id, *kinds, *chunk],
            )
            for row in cur.fetchall():
                key = f"{row[4]}:{row[1]}" if kind else str(row[1])
                found[key] = (int(row[0]), str(row[2]), row[3])
    finally:
        cur.close()
    return found


#: Bound values per statement (SQLite allows 32,766, PostgreSQL 65,535). Smaller than either:
#: the driver keeps each distinct statement compiled (SQLite's statement cache, psycopg's
#: prepared statements), and one of tens of thousands of placeholders costs megabytes.
_PARAMS = 8_192


def _chunks(columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> Iterator[Sequence[Any]]:
    """Rows in runs that fit one multi-row VALUES statement, every run a power of two long.

    So a table has at most a dozen distinct statements, however many rows each page
    changes: a run as long as the page's rest would compile (and cache) a new statement on
    almost every page, which grew a 100,000-invoice backfill's memory by 70 MB.
    """
    size = 1 << (max(1, _PARAMS // len(columns)).bit_length() - 1)
    start, total = 0, len(rows)
    while start < total:
        run = min(size, 1 << ((total - start).bit_length() - 1))
        yield rows[start : start + run]
        start += run


@functools.lru_cache(maxsize=128)
def _values(
    sqlite: bool, columns: tuple[str, ...], json_columns: frozenset[str], count: int
) -> str:
    """``count`` rows of placeholders: ``?`` on SQLite, numbered ``$n`` on PostgreSQL.

    psycopg re-parses a ``%s`` query longer than 4 KB on every execution (in Python, more
    CPU than the write itself), so PostgreSQL gets numbered placeholders and a raw cursor.
    """
    if sqlite:
        row = ", ".join("?" for _ in columns)
        return ", ".join([f"({row})"] * count)
    width = len(columns)
    marks = [
        ", ".join(
            f"CAST(${n * width + i + 1} AS JSON)" if c in json_columns else f"${n * width + i + 1}"
            for i, c in enumerate(columns)
        )
        for n in range(count)
    ]
    return ", ".join(f"({m})" for m in marks)


def _many_cursor(session: Session) -> Any:
    """A cursor for the multi-row statements; on PostgreSQL one that takes ``$n`` as is."""
    session.flush()
    dbapi: Any = session.connection().connection.dbapi_connection
    if session.get_bind().dialect.name == "sqlite":
        return dbapi.cursor()
    import psycopg

    return psycopg.RawCursor(dbapi)


def upsert(
    session: Session,
    table: Table,
    conflict: tuple[str, ...],
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    *,
    json_columns: frozenset[str] = frozenset(),
    kind: bool = False,
) -> dict[str, int]:
    """INSERT the rows, or UPDATE the stored ones whose fingerprint changed and are not newer.

    One multi-row statement per few thousand values (not one per row) that returns the ids of
    the rows it wrote, keyed like :func:`existing`: no second query for new rows' ids, and
    on PostgreSQL one round trip instead of one per row. A row the ``WHERE`` refused (a
    concurrent writer stored a newer copy) is not returned, so its children are left alone.
    """
    if not rows:
        return {}
    bind = binder(session)
    updated = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in conflict)
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "  # noqa: S608
    tail = (
        f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updated} "
        f"WHERE {table.name}.fingerprint <> excluded.fingerprint "
        f"AND {table.name}.provider_updated_at <= excluded.provider_updated_at "
        f"RETURNING id, provider_id{', kind' if kind else ''}"
    )
    ids: dict[str, int] = {}
    cur = _many_cursor(session)
    try:
        for chunk in _chunks(columns, rows):
            values = _values(bind.sqlite, columns, json_columns, len(chunk))
            cur.execute(head + values + tail, list(chain.from_iterable(chunk)))
            for row in cur.fetchall():
                ids[f"{row[2]}:{row[1]}" if kind else str(row[1])] = int(row[0])
    finally:
        cur.close()
    return ids


def insert(
    session: Session, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Plain INSERT of many rows, a few thousand values per statement on either database.

    One step of the database per run of rows, not one per row: on SQLite each step lets go
    of the GIL, and an executemany of a page's 2,000 invoice lines waited behind the page
    readers' decoding up to 2,000 times; it also costs a third less CPU. Runs are powers of
    two long (:func:`_chunks`), so each table has about a dozen statements, kept compiled."""
    sqlite = binder(session).sqlite
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "  # noqa: S608
    cur = _many_cursor(session)
    try:
        for chunk in _chunks(columns, rows):
            values = _values(sqlite, columns, frozenset(), len(chunk))
            cur.execute(head + values, list(chain.from_iterable(chunk)))
    finally:
        cur.close()


def replace_children(
    session: Session,
    table: Table,
    parent_column: str,
    stored_parents: Sequence[int],
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Child rows (invoice lines, allocations) of rewritten parents: delete, then insert.

    Only parents that were already stored can have children to delete; new ones cannot.
    """
    bind = binder(session)
    cur = _cursor(session)
    try:
        for start in range(0, len(stored_parents), _CHUNK):
            chunk = list(stored_parents[start : start + _CHUNK])
            cur.execute(
                f"DELETE FROM {table.name} WHERE {parent_column} "  # noqa: S608
                f"IN ({', '.join([bind.mark] * len(chunk))})",
                chunk,
            )
    finally:
        cur.close()
    if rows:
        insert(session, table, columns, rows)
