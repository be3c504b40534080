"""Migration 0013 names the kind of existing address holds from their reason text, and only
theirs, on every backend; it also goes down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, MetaData, Table, select

from syncd.store.engine import alembic_config, make_engine, upgrade

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ROWS = {  # key: (kind, status, review_reason)
    "held-address": ("email", "awaiting_review", "customer C1 has no email address: add one"),
    "approved-address": ("email", "done", "customer C2 has no email address: add one"),
    "held-mode": ("email", "awaiting_review", 'review = "all": every action waits for approval'),
    "note-phrase": ("note", "awaiting_review", "customer C3 has no email address (a note)"),
    "never-held": ("email", "pending", None),
}


def _seed(engine: Engine) -> None:
    meta = MetaData()
    orgs = Table("orgs", meta, autoload_with=engine)
    outbox = Table("outbox_actions", meta, autoload_with=engine)
    with engine.begin() as conn:
        org_id = conn.execute(
            orgs.insert().values(
                name="acme", connector="quickbooks", created_at=NOW, token_version=1
            )
        ).inserted_primary_key[0]
        for key, (kind, status, reason) in ROWS.items():
            conn.execute(
                outbox.insert().values(
                    org_id=org_id,
                    idempotency_key=key,
                    kind=kind,
                    payload={},
                    status=status,
                    attempts=0,
                    scheduled_for=NOW,
                    created_at=NOW,
                    updated_at=NOW,
                    review_reason=reason,
                )
            )


def _kinds(engine: Engine) -> dict[str, str | None]:
    outbox = Table("outbox_actions", MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.idempotency_key, outbox.c.hold_kind))
        return {key: kind for key, kind in rows}


def test_existing_address_holds_get_their_kind(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine, "0012")
        _seed(engine)
        upgrade(engine)
        expected = {key: None for key in ROWS} | {
            "held-address": "address",
            "approved-address": "address",
        }
        assert _kinds(engine) == expected
        command.downgrade(alembic_config(engine), "0012")
        outbox = Table("outbox_actions", MetaData(), autoload_with=engine)
        assert "hold_kind" not in outbox.c
        upgrade(engine)
        assert _kinds(engine) == expected
    finally:
        engine.dispose()
