"""The kind of an outbox row's review hold: ``outbox_actions.hold_kind`` and an index on it.

An email to a customer with no address is held for review until a sync brings the address;
each cycle releases those holds. Until now they were recognised by a phrase in
``review_reason`` and the release scanned every row awaiting review. The column names the
kind (``address``; NULL for holds only a human ends) and the index on (org, kind, status)
lets the release read only its own rows. Existing address holds are found by the phrase
their reason has always carried.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration must not change when the application's wording does): the phrase
# every address hold's reason contains, and the only kind such holds were written for.
_ADDRESS_PHRASE = "%has no email address%"
_ADDRESSED_KIND = "email"


def upgrade() -> None:
    with op.batch_alter_table("outbox_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_kind", sa.String(length=16), nullable=True))
        batch_op.create_index(
            "ix_outbox_actions_hold", ["org_id", "hold_kind", "status"], unique=False
        )
    outbox = sa.table(
        "outbox_actions",
        sa.column("kind", sa.String),
        sa.column("review_reason", sa.Text),
        sa.column("hold_kind", sa.String),
    )
    op.execute(
        outbox.update()
        .where(
            outbox.c.kind == _ADDRESSED_KIND,
            outbox.c.review_reason.like(_ADDRESS_PHRASE),
        )
        .values(hold_kind="address")
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_actions_hold")
        batch_op.drop_column("hold_kind")
