"""Connected organisations: the org row with its encrypted tokens, and the lease that says
which process works on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Org(Base):
    """One connected organisation (a QuickBooks realm or a Xero tenant)."""

    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    connector: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime]
    #: Tokens are encrypted by syncd before they reach this row; never plain text.
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None]
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_expires_at: Mapped[datetime | None]
    token_updated_at: Mapped[datetime | None]
    #: Bumped on every token write so concurrent refreshers can detect a lost race.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    #: The day dunning started, recorded once the first backfill completed (the config's
    #: ``go_live`` overrides it).
    go_live: Mapped[date | None] = mapped_column(Date)
    #: The business as the provider describes it (``CompanyInfo``), refreshed on sync: its
    #: name signs reminder emails, so it must not depend on a live call at send time.
    company_name: Mapped[str | None] = mapped_column(String(500))
    company_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    company_info_at: Mapped[datetime | None]


class OrgLease(Base):
    """Which process works on an org (see ``syncd.store.leases``); one row per org."""

    __tablename__ = "org_leases"

    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    #: Bumped by every new holder: the fencing token outbox claims carry.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    #: ``host:pid:nonce`` of the holder; NULL once released.
    holder: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    pid_namespace: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
