"""Each org's go-live date: the day syncd starts dunning it.

The config's ``[[orgs]] go_live`` wins. Otherwise it is the day (in the org's timezone) the
org's first backfill completed: read from the backfill cursors and written to ``orgs.go_live``
the first time it is seen, so a later ``backfill --restart`` (which clears those cursors)
never moves it.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import EntityKind

from ..config.loader import LoadedConfig
from ..store.models import Org, SyncCursor

#: The streams a backfill must have completed (the same ones ``syncd.sync`` pulls).
BACKFILL_STREAMS = frozenset(
    e.value for e in (EntityKind.CUSTOMERS, EntityKind.INVOICES, EntityKind.PAYMENTS)
)


def first_backfill_day(session: Session, org_id: int, tz: ZoneInfo) -> date | None:
    """The local day the last stream of the backfill completed; None while one is missing."""
    rows = session.execute(
        select(SyncCursor.stream, SyncCursor.backfill_completed_at).where(
            SyncCursor.org_id == org_id,
            SyncCursor.stream.in_(BACKFILL_STREAMS),
            SyncCursor.backfill_completed_at.is_not(None),
        )
    )
    # (A Result has .keys(), so dict(result) would treat it as a mapping.)
    done = {stream: at for stream, at in rows}
    if set(done) < BACKFILL_STREAMS or not done:
        return None
    return max(v for v in done.values() if v is not None).astimezone(tz).date()


def go_live_for(
    session: Session, config: LoadedConfig, org_name: str, org_id: int | None, *, record: bool
) -> date | None:
    """The org's go-live date, or None before its first backfill completed.

    With ``record``, a default found for the first time is stored (the caller commits).
    """
    org = config.settings.org(org_name)
    if org.go_live is not None:
        return org.go_live
    if org_id is None:
        return None
    row = session.get(Org, org_id)
    if row is None:
        return None
    if row.go_live is not None:
        return row.go_live
    day = first_backfill_day(session, org_id, ZoneInfo(org.timezone))
    if day is not None and record:
        row.go_live = day
    return day


def go_live_source(config: LoadedConfig, org_name: str, stored: date | None) -> str:
    """Where the go-live date comes from, for ``config check``."""
    if config.settings.org(org_name).go_live is not None:
        return "config"
    return "first backfill" if stored is not None else "first backfill (not completed yet)"


def go_live_summary(config: LoadedConfig) -> dict[str, str]:
    """Each org's go-live date and where it comes from, for ``config check``.

    Reads the store only if it already exists (a config check never creates a database);
    an unreachable store is reported, not raised.
    """
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from ..store import open_store

    stored: dict[str, date | None] = {}
    note = ""
    url = make_url(config.store_url)
    exists = not url.drivername.startswith("sqlite") or (
        url.database not in (None, "", ":memory:") and Path(str(url.database)).exists()
    )
    if exists:
        try:
            store = open_store(config.store_url)
            try:
                with store.sessions() as session:
                    for org in config.settings.orgs:
                        row = session.scalar(select(Org).where(Org.name == org.name))
                        stored[org.name] = (
                            go_live_for(session, config, org.name, row.id, record=False)
                            if row is not None
                            else None
                        )
            finally:
                store.close()
        except Exception as exc:  # a summary line, never a crash of `config check`
            note = f" (store not readable: {type(exc).__name__})"
    out = {}
    for org in config.settings.orgs:
        day = org.go_live or stored.get(org.name)
        source = go_live_source(config, org.name, stored.get(org.name))
        out[org.name] = f"{day.isoformat()} ({source})" if day else f"not yet: {source}{note}"
    return out
