"""Demand letters, hand-offs to an agency, and every email as sent (the case file's log).

Revision ID: 0009
Revises: 0007 (ladderreg's call tasks; was 0005 before that branch was merged)
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncd.store.types import Money, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("action_key", sa.String(length=200), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("dated", sa.Date(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("by_post", sa.Boolean(), nullable=False),
        sa.Column("attach_to_email", sa.Boolean(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=True),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_letters_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
        sa.UniqueConstraint("org_id", "action_key", name=op.f("uq_letters_org_id_action_key")),
    )
    op.create_index("ix_letters_org_customer", "letters", ["org_id", "customer_provider_id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=300), nullable=False),
        sa.Column("invoice_ids", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("known_payments", sa.JSON(), nullable=False),
        sa.Column("archive_path", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_handoffs_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index("ix_handoffs_org_customer", "handoffs", ["org_id", "customer_provider_id"])
    op.create_table(
        "sent_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_sent_messages_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["outbox_actions.id"],
            name=op.f("fk_sent_messages_action_id_outbox_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_messages")),
        sa.UniqueConstraint("action_id", name=op.f("uq_sent_messages_action_id")),
    )


def downgrade() -> None:
    op.drop_table("sent_messages")
    op.drop_index("ix_handoffs_org_customer", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_index("ix_letters_org_customer", table_name="letters")
    op.drop_table("letters")
