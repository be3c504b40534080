"""Appending to the audit log. Callers pass their own session so that an entry commits in the
same transaction as the fact it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEntry
from .upserts import to_jsonable


def record(
    session: Session,
    *,
    at: datetime,
    event: str,
    actor: str = "syncd",
    org_id: int | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    **details: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        org_id=org_id,
        actor=actor,
        event=event,
        subject_type=subject_type,
        subject_id=subject_id,
        details=to_jsonable(details),
    )
    session.add(entry)
    return entry
