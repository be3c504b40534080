"""``release_holds`` ends only the kinds it is given: ``syncd resume`` (the default) leaves a
hand-off's hold standing, and ``syncd handoff release`` (``kinds=("handoff",)``) ends only
that one, each with its audit entry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select

from syncd.dunning.holds import release_holds
from syncd.store import Store, ensure_org
from syncd.store.models import AuditEntry, Hold

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _open(store: Store) -> list[str]:
    with store.sessions() as s:
        return sorted(s.scalars(select(Hold.kind).where(Hold.released_at.is_(None))))


def test_release_holds_ends_only_the_kinds_asked_for(store: Store) -> None:
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "o", "quickbooks", NOW).id
        for kind in ("pause", "dispute", "handoff"):
            s.execute(
                insert(Hold).values(
                    org_id=org_id,
                    scope="customer",
                    provider_id="C1",
                    kind=kind,
                    actor="t",
                    created_at=NOW,
                )
            )
    with store.sessions.begin() as s:
        n = release_holds(
            s, org_id=org_id, scope="customer", provider_id="C1", actor="bob", reason="paid",
            now=NOW,
        )  # fmt: skip
    assert n == 2 and _open(store) == ["handoff"]
    with store.sessions.begin() as s:
        n = release_holds(
            s, org_id=org_id, scope="customer", provider_id="C1", actor="al", reason="returned",
            now=NOW, kinds=("handoff",),
        )  # fmt: skip
    assert n == 1 and _open(store) == []
    with store.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.event == "hold.resume")).all()
    assert sorted((a.actor, a.details["kind"]) for a in audit) == [
        ("al", "handoff"),
        ("bob", "dispute"),
        ("bob", "pause"),
    ]
