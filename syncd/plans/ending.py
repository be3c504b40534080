"""How a payment plan or a settlement ends, is found, and is cancelled by hand: one way for
both, so that the two kinds of agreement cannot drift apart (holds released, audit entry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ..store.audit import record
from ..store.models import PaymentPlan, Settlement
from .common import LadderError, hold_actor, release_holds

Agreement = TypeVar("Agreement", PaymentPlan, Settlement)

#: model -> (audit and hold name, what a user calls it, the statuses a cancel applies to);
#: an ``unconfirmed`` plan still holds its invoices, and cancelling it releases them.
_NAMES: dict[type[Any], tuple[str, str, tuple[str, ...]]] = {
    PaymentPlan: ("plan", "payment plan", ("active", "unconfirmed")),
    Settlement: ("settlement", "settlement", ("pending",)),
}


def end_agreement(
    session: Session,
    agreement: PaymentPlan | Settlement,
    status: str,
    reason: str,
    *,
    actor: str,
    now: datetime,
    release: bool = True,
    on_break: str | None = None,
) -> None:
    """Close it, release its holds (dunning resumes where it stood) and record it;
    ``release=False`` keeps the invoices on hold (a settlement left unclosed)."""
    agreement.status, agreement.end_reason, agreement.ended_at = status, reason, now
    details: dict[str, Any] = {}
    if isinstance(agreement, PaymentPlan):
        agreement.on_break = details["on_break"] = on_break
        subject = ("customer", agreement.customer_provider_id)
    else:
        subject = ("invoice", agreement.invoice_provider_id)
    what = _NAMES[type(agreement)][0]
    if release:
        release_holds(session, agreement.org_id, hold_actor(what, agreement.id), reason, now)
    record(
        session,
        at=now,
        event=f"{what}.{status}",
        actor=actor,
        org_id=agreement.org_id,
        subject_type=subject[0],
        subject_id=subject[1],
        **{f"{what}_id": agreement.id},
        reason=reason,
        **details,
    )


def get_agreement(session: Session, model: type[Agreement], org_id: int, ident: int) -> Agreement:
    found = session.get(model, ident)
    if found is None or found.org_id != org_id:
        raise LadderError(f"no {_NAMES[model][1]} {ident} in this org")
    return found


def cancel_agreement(
    session: Session,
    model: type[Agreement],
    org_id: int,
    ident: int,
    *,
    reason: str | None,
    actor: str,
    now: datetime,
) -> Agreement:
    """End an open agreement by hand (a user's decision, recorded with their reason)."""
    found = get_agreement(session, model, org_id, ident)
    if found.status not in _NAMES[model][2]:
        raise LadderError(f"{_NAMES[model][1]} {ident} is already {found.status}")
    end_agreement(session, found, "cancelled", reason or "cancelled by hand", actor=actor, now=now)
    return found
