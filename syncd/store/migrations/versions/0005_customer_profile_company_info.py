"""Customers as the providers know them (groups, country, business flag, phone, address)
and the business's own details (``CompanyInfo``) cached on the org.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncd.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("is_business", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("address", sa.JSON(), nullable=True))
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("company_info", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("company_info_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orgs", schema=None) as batch_op:
        batch_op.drop_column("company_info_at")
        batch_op.drop_column("company_info")
        batch_op.drop_column("company_name")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("phone")
        batch_op.drop_column("is_business")
        batch_op.drop_column("country")
        batch_op.drop_column("groups")
