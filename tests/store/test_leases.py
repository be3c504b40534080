"""Org leases on both backends: one holder at a time, takeover only after expiry (or when the
holder's process on this host is gone), fencing of a holder that lost its lease."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from syncd.store import Store, ensure_org
from syncd.store.leases import LeaseLost, OrgBusy, OrgLease
from syncd.store.models import OrgLease as LeaseRow

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def org(store: Store, name: str = "acme") -> int:
    with store.sessions.begin() as session:
        return ensure_org(session, name, "quickbooks", T0).id


def at(moment: datetime) -> OrgLeaseClock:
    return OrgLeaseClock(moment)


class OrgLeaseClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_second_holder_is_refused_and_told_who_holds_it(store: Store) -> None:
    org_id = org(store)
    first = OrgLease(store, org_id, "acme").acquire()
    try:
        with pytest.raises(OrgBusy) as busy:
            OrgLease(store, org_id, "acme").acquire()
        holder = busy.value.holder
        assert (holder.host, holder.pid) == (socket.gethostname(), os.getpid())
        assert str(busy.value).startswith(
            f"org 'acme' is busy: held by host {socket.gethostname()}, pid {os.getpid()}, since "
        )
        # Another org is never blocked by this one.
        OrgLease(store, org(store, "other"), "other").acquire().release()
    finally:
        first.release()
    again = OrgLease(store, org_id, "acme").acquire()
    assert again.generation == first.generation + 1
    again.release()


def test_expired_lease_is_taken_over_and_the_old_holder_is_fenced(store: Store) -> None:
    org_id = org(store)
    old = OrgLease(store, org_id, "acme", seconds=30, now=at(T0))
    old.acquire()
    old._stop.set()  # a holder that stopped renewing (hung, or on a partitioned host)
    with pytest.raises(OrgBusy):
        OrgLease(store, org_id, "acme", seconds=30, now=at(T0 + timedelta(seconds=29))).acquire()
    new = OrgLease(store, org_id, "acme", seconds=30, now=at(T0 + timedelta(seconds=31)))
    new.acquire()
    try:
        assert new.generation == old.generation + 1
        assert old.renew() is False and old.lost
        with store.sessions.begin() as session, pytest.raises(LeaseLost):
            old.fence(session)
        with store.sessions.begin() as session:
            new.fence(session)  # still ours
    finally:
        new.release()
        old.release()  # releasing a lost lease changes nothing
    with store.sessions() as session:
        row = session.get(LeaseRow, org_id)
        assert row is not None and row.holder is None and row.generation == new.generation


def test_a_holder_process_that_is_gone_is_taken_over_at_once(store: Store) -> None:
    org_id = org(store)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(dead.stdout)
    lease = OrgLease(store, org_id, "acme").acquire()
    lease._stop.set()
    with store.sessions.begin() as session:  # as if that process had taken it and been killed
        session.execute(update(LeaseRow).where(LeaseRow.org_id == org_id).values(pid=pid))
    successor = OrgLease(store, org_id, "acme").acquire()
    assert successor.generation == lease.generation + 1
    successor.release()


def test_a_holder_on_another_host_is_respected_until_expiry(store: Store) -> None:
    org_id = org(store)
    lease = OrgLease(store, org_id, "acme").acquire()
    lease._stop.set()
    with store.sessions.begin() as session:
        session.execute(
            update(LeaseRow).where(LeaseRow.org_id == org_id).values(host="elsewhere", pid=1)
        )
    with pytest.raises(OrgBusy, match="held by host elsewhere, pid 1"):
        OrgLease(store, org_id, "acme").acquire()
    later = datetime.now(UTC) + timedelta(seconds=lease.seconds + 1)
    OrgLease(store, org_id, "acme", now=at(later)).acquire().release()
