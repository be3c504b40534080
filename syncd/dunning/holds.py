"""Pauses (promise to pay), disputes and resumes: one row per hold, never deleted, each
change recorded in the audit log with who and why in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.models import Customer, Hold, Invoice

Scope = Literal["invoice", "customer"]
#: The kinds ``syncd resume`` ends: a hand-off's hold (kind ``handoff``) ends only with
#: ``syncd handoff release``, which passes its own kind.
RESUMABLE_KINDS = ("pause", "dispute")


class HoldError(ValueError):
    pass


def _check_subject(session: Session, org_id: int, scope: Scope, provider_id: str) -> None:
    model = Invoice if scope == "invoice" else Customer
    found = session.scalar(
        select(model.id).where(model.org_id == org_id, model.provider_id == provider_id)
    )
    if found is None:
        raise HoldError(f"no {scope} {provider_id!r} in this org's store (run `syncd sync`?)")


def place_hold(
    session: Session,
    *,
    org_id: int,
    scope: Scope,
    provider_id: str,
    kind: Literal["pause", "dispute"],
    until: date | None,
    reason: str | None,
    actor: str,
    now: datetime,
    today: date,
) -> Hold:
    _check_subject(session, org_id, scope, provider_id)
    if kind == "pause" and (until is None or until <= today):
        raise HoldError("a pause needs --until, a date after today")
    hold = Hold(
        org_id=org_id,
        scope=scope,
        provider_id=provider_id,
        kind=kind,
        until=until,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    session.add(hold)
    session.flush()
    record(
        session,
        at=now,
        event=f"hold.{kind}",
        actor=actor,
        org_id=org_id,
        subject_type=scope,
        subject_id=provider_id,
        hold_id=hold.id,
        until=until,
        reason=reason,
    )
    return hold


def release_holds(
    session: Session,
    *,
    org_id: int,
    scope: Scope,
    provider_id: str,
    actor: str,
    reason: str | None,
    now: datetime,
    kinds: Iterable[str] = RESUMABLE_KINDS,
) -> int:
    """End the subject's open holds of ``kinds``, each with its audit entry; returns how many.

    A hold a payment plan or settlement keeps (actor ``syncd:plan/N``, ``syncd:settlement/N``)
    is the agreement's, not a person's: only ending the agreement ends it. Otherwise
    ``syncd resume`` on a plan's invoice would restart ordinary dunning beside the plan's own
    reminders while the customer keeps to the plan.
    """
    rows = session.scalars(
        select(Hold).where(
            Hold.org_id == org_id,
            Hold.scope == scope,
            Hold.provider_id == provider_id,
            Hold.released_at.is_(None),
            Hold.kind.in_(list(kinds)),
            Hold.actor.not_like("syncd:%"),
        )
    ).all()
    for row in rows:
        row.released_at = now
        record(
            session,
            at=now,
            event="hold.resume",
            actor=actor,
            org_id=org_id,
            subject_type=scope,
            subject_id=provider_id,
            hold_id=row.id,
            kind=row.kind,
            reason=reason,
        )
    return len(rows)
