"""One worker per org across processes and machines: a lease row per org with a fencing
generation.

A process takes the org's lease before it syncs, plans or executes for that org, renews it
from a background thread while it works and releases it when it is done. Every acquisition
by a new holder bumps ``generation``; outbox rows claimed under a lease carry that generation,
so a later holder knows which ``in_flight`` rows belong to a holder that is gone (an older
generation) and may be recovered. Every claim first re-checks, in its own transaction, that
the lease is still ours (:meth:`OrgLease.fence`): a holder whose lease lapsed and was taken
over can claim nothing more.

The row is written under ``BEGIN IMMEDIATE`` on SQLite (one writer at a time, so the read
and the write cannot interleave with another process) and under ``SELECT ... FOR UPDATE`` on
PostgreSQL, which is what lets several daemons on one PostgreSQL share orgs later.

Expiry uses the machines' wall clocks (not syncd's injectable business clock): hosts sharing
a store must keep their clocks in sync (NTP), within a fraction of the lease time. A holder
on this very host whose process no longer exists (killed, crashed) is taken over at once
instead of after expiry.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ..logs import get_logger
from .engine import Store
from .models import OrgLease as LeaseRow

log = get_logger(__name__)

DEFAULT_LEASE_SECONDS = 60.0


def _wall_now() -> datetime:
    return datetime.now(UTC)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: datetime
    expires_at: datetime
    generation: int

    def describe(self) -> str:
        return f"host {self.host}, pid {self.pid}, since {_when(self.since)}"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class OrgBusy(Exception):
    """Another process holds the org's lease."""

    def __init__(self, org: str, holder: Holder) -> None:
        super().__init__(f"org {org!r} is busy: held by {holder.describe()}")
        self.org, self.holder = org, holder


class LeaseLost(Exception):
    """The lease lapsed and another process took the org over: stop working on it."""


def _process_gone(row: LeaseRow) -> bool:
    """True only when the holder provably no longer runs: same host and PID namespace."""
    if row.host != socket.gethostname() or (row.pid_namespace or "") != _pid_namespace():
        return False
    if row.pid is None or row.pid == os.getpid():
        return False  # our own process (another lease object): respect it
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class OrgLease:
    """The lease of one org held by this process (one object per acquisition)."""

    def __init__(
        self,
        store: Store,
        org_id: int,
        org_name: str,
        *,
        seconds: float = DEFAULT_LEASE_SECONDS,
        now: Callable[[], datetime] = _wall_now,
    ) -> None:
        self.store, self.org_id, self.org_name = store, org_id, org_name
        self.seconds, self.now = seconds, now
        self.host, self.pid = socket.gethostname(), os.getpid()
        #: Unique per acquisition, so two leases in one process never mistake each other.
        self.token = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:12]}"
        self.generation = 0
        self.since: datetime | None = None
        self.held = False
        self.lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # -- acquiring -------------------------------------------------------------------------

    def _try(self) -> Holder | None:
        """One attempt; None when acquired, else who holds it."""
        with self.store.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(
                    pg_insert(LeaseRow)
                    .values(org_id=self.org_id, generation=0)
                    .on_conflict_do_nothing(index_elements=["org_id"])
                )
            busy = self._take(conn, sqlite)
            conn.commit()
        return busy

    def _take(self, conn: Connection, sqlite: bool) -> Holder | None:
        with Session(bind=conn) as session:
            return self._take_in(session, sqlite)

    def _take_in(self, session: Session, sqlite: bool) -> Holder | None:
        stmt = select(LeaseRow).where(LeaseRow.org_id == self.org_id)
        row = session.scalar(stmt if sqlite else stmt.with_for_update())
        now = self.now()
        if row is None:
            row = LeaseRow(org_id=self.org_id, generation=0)
            session.add(row)
        elif (
            row.holder is not None
            and row.expires_at is not None
            and row.expires_at > now
            and not _process_gone(row)
        ):
            return Holder(
                row.host or "?", row.pid or 0, row.since or now, row.expires_at, row.generation
            )
        previous = row.holder
        row.generation = (row.generation or 0) + 1
        row.holder, row.host, row.pid = self.token, self.host, self.pid
        row.pid_namespace = _pid_namespace()
        row.since, row.renewed_at = now, now
        row.expires_at = now + timedelta(seconds=self.seconds)
        session.flush()
        self.generation, self.held, self.lost = row.generation, True, False
        self.since = now
        if previous is not None:
            log.info("lease taken over", org=self.org_name, previous=previous.rsplit(":", 1)[0])
        return None

    def acquire(self, wait: float = 0.0, poll: float = 0.5) -> OrgLease:
        """Take the lease, waiting up to ``wait`` seconds for the holder; else :class:`OrgBusy`."""
        deadline = time.monotonic() + max(0.0, wait)
        waited = False
        while True:
            holder = self._try()
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise OrgBusy(self.org_name, holder)
            if not waited:
                waited = True
                log.info("org busy: waiting", org=self.org_name, holder=holder.describe())
            time.sleep(min(poll, max(0.05, deadline - time.monotonic())))
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lease {self.org_name}", daemon=True
        )
        self._renewer.start()
        return self

    @property
    def since_text(self) -> str:
        return _when(self.since) if self.since else "?"

    # -- while working ---------------------------------------------------------------------

    def _mine(self) -> list[object]:
        return [
            LeaseRow.org_id == self.org_id,
            LeaseRow.holder == self.token,
            LeaseRow.generation == self.generation,
        ]

    def renew(self) -> bool:
        now = self.now()
        with self.store.sessions.begin() as session:
            result = session.execute(
                update(LeaseRow)
                .where(*self._mine())  # type: ignore[arg-type]
                .values(renewed_at=now, expires_at=now + timedelta(seconds=self.seconds))
                .execution_options(synchronize_session=False)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.lost = True
            log.error("lease lost: another process took the org over", org=self.org_name)
        return not self.lost

    def _renew_loop(self) -> None:
        interval = max(0.2, self.seconds / 4)
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    return
            except Exception:  # a database hiccup: try again at the next interval
                log.warning("lease renewal failed; retrying", org=self.org_name, exc_info=True)

    def fence(self, session: Session) -> None:
        """Inside a claim's transaction: prove the lease is still ours, and extend it.

        The UPDATE takes the write lock (SQLite) or the lease row's lock (PostgreSQL) before
        the claim reads anything, so no takeover can slip between this check and the claim.
        Holder and generation unchanged means nobody took over, even if renewal was late (a
        starved renewal thread on a loaded machine), so the lease is still ours.
        """
        now = self.now()
        result = session.execute(
            update(LeaseRow)
            .where(*self._mine())  # type: ignore[arg-type]
            .values(renewed_at=now, expires_at=now + timedelta(seconds=self.seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            self.lost = True
            raise LeaseLost(f"lease on org {self.org_name!r} lapsed and another process took it")

    # -- releasing -------------------------------------------------------------------------

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join(timeout=5)
        if not self.held:
            return
        self.held = False
        with self.store.sessions.begin() as session:
            session.execute(
                update(LeaseRow)
                .where(*self._mine())  # type: ignore[arg-type]
                .values(holder=None, expires_at=self.now())
                .execution_options(synchronize_session=False)
            )

    def __enter__(self) -> OrgLease:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
