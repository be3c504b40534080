"""Set-based writes for pages of records: one statement per batch, not one ORM flush per row.

A page of 1,000 invoices through the ORM cost a unit-of-work flush per object; here each page
costs one narrow SELECT (id, fingerprint, timestamp of the rows it names), one executemany
``INSERT ... ON CONFLICT DO UPDATE ... WHERE changed`` and one for the child rows. The
``WHERE`` repeats the decision made in Python (fingerprint differs and the stored copy is not
newer), so a concurrent writer can never roll a row back in time either.

Raw payloads are serialised once, by the C JSON encoder, and bound as text: the JSON column's
own bind processor would serialise them a second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

_CHUNK = 500


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


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(dump(list(parts), canonical=True).encode()).hexdigest()


def record_fingerprint(fields: Any, raw_text: str) -> str:
    """A record's normalised fields plus its raw payload's text, already serialised once."""
    digest = hashlib.sha256(dump(fields, canonical=True).encode())
    digest.update(b"\n")
    digest.update(raw_text.encode())
    return digest.hexdigest()


#: key -> (row id, fingerprint, provider_updated_at)
Known = dict[str, tuple[int, str, datetime]]


def existing(
    session: Session, table: Table, org_id: int, keys: Sequence[str], *, kind: bool = False
) -> Known:
    """Only the columns the write decision needs, for the provider ids a page names."""
    cols = [table.c.id, table.c.provider_id, table.c.fingerprint, table.c.provider_updated_at]
    if kind:
        cols.append(table.c.kind)
    found: Known = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        stmt = select(*cols).where(table.c.org_id == org_id, table.c.provider_id.in_(chunk))
        for row in session.execute(stmt):
            key = f"{row[4]}:{row[1]}" if kind else str(row[1])
            found[key] = (int(row[0]), str(row[2]), row[3])
    return found


def _raw_param(dialect: str) -> ColumnElement[Any]:
    raw = bindparam("raw_text", type_=Text())
    if dialect == "postgresql":
        return cast(raw, postgresql.JSON())
    return raw


def upsert(
    session: Session, table: Table, conflict: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT the rows, or UPDATE the stored ones whose fingerprint changed and are not newer.

    Each row maps column names to values, except ``raw_text``: the raw payload's JSON text.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = [n for n in rows[0] if n != "raw_text"]
    values: dict[str, Any] = {n: bindparam(f"p_{n}", type_=table.c[n].type) for n in names}
    values["raw"] = _raw_param(dialect)
    stmt = insert(table).values(values)
    updated = [n for n in (*names, "raw") if n not in conflict]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict),
        set_={n: stmt.excluded[n] for n in updated},
        where=(table.c.fingerprint != stmt.excluded.fingerprint)
        & (table.c.provider_updated_at <= stmt.excluded.provider_updated_at),
    )
    params = [{f"p_{n}": r[n] for n in names} | {"raw_text": r["raw_text"]} for r in rows]
    for start in range(0, len(params), _CHUNK):
        session.execute(stmt, params[start : start + _CHUNK])


def ids_for(
    session: Session, table: Table, org_id: int, keys: Iterable[str], *, kind: bool = False
) -> dict[str, int]:
    """Row ids after an upsert, keyed like :func:`existing`."""
    return {
        key: known[0]
        for key, known in existing(session, table, org_id, list(keys), kind=kind).items()
    }


def replace_children(
    session: Session,
    table: Table,
    parent_column: str,
    parent_ids: Sequence[int],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Child rows (invoice lines, allocations) of rewritten parents: delete, then insert."""
    column = table.c[parent_column]
    for start in range(0, len(parent_ids), _CHUNK):
        session.execute(delete(table).where(column.in_(parent_ids[start : start + _CHUNK])))
    for start in range(0, len(rows), _CHUNK):
        session.execute(table.insert(), list(rows[start : start + _CHUNK]))
