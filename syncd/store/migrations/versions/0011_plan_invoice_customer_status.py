"""Invoices of given customers by status: the customer index gains ``status``.

``plan`` loads the open invoices of the customers with something due. Without statistics
SQLite picked (org_id, status, due_date) for that query and read every open invoice of the
org (0.3 s of CPU per 100,000); with ``status`` in the customer index it reads only those
customers' rows. Replaced rather than added, so writes keep one index per purpose.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_org_customer_status",
            ["org_id", "customer_provider_id", "status"],
            unique=False,
        )
        batch_op.drop_index("ix_invoices_org_customer")


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_org_customer", ["org_id", "customer_provider_id"], unique=False
        )
        batch_op.drop_index("ix_invoices_org_customer_status")
