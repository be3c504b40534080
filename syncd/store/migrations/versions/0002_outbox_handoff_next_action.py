"""Outbox hand-off marker for exactly-once email; next_action_on (indexed) and the policy
fingerprint on dunning state, so a cycle plans only its candidates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncd.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("dunning_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_action_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("plan_fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_dunning_states_next_action_on"), ["next_action_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dunning_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dunning_states_next_action_on"))
        batch_op.drop_column("plan_fingerprint")
        batch_op.drop_column("next_action_on")
    with op.batch_alter_table("outbox_actions", schema=None) as batch_op:
        batch_op.drop_column("handed_at")
