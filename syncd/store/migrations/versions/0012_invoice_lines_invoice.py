"""Invoice lines by their invoice: an index on ``invoice_lines.invoice_id``.

Lines are only ever read and replaced by invoice (a late fee resends an invoice's lines, a
sync that rewrites an invoice deletes its old ones, deleting an invoice cascades), and
without this index each of those read the whole table: about 300,000 rows for a company
with 100,000 invoices, once per invoice an action touches.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_lines_invoice", ["invoice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_invoice")
