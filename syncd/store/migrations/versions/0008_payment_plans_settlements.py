"""Payment plans (with their invoices and instalments) and settlements.

Revision ID: 0008
Revises: 0007 (0005 on the plans branch; re-chained after merging ladderreg's 0007)
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncd.store.types import Money, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("every", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("on_break", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_payment_plans_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_plans"),
    )
    op.create_index(
        "ix_payment_plans_org_customer", "payment_plans", ["org_id", "customer_provider_id"]
    )
    op.create_table(
        "payment_plan_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("invoice_provider_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=255), nullable=True),
        sa.Column("balance", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["payment_plans.id"],
            name="fk_payment_plan_invoices_plan_id_payment_plans",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_plan_invoices"),
        sa.UniqueConstraint(
            "plan_id",
            "invoice_provider_id",
            name="uq_payment_plan_invoices_plan_id_invoice_provider_id",
        ),
    )
    op.create_table(
        "payment_plan_instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("paid", Money(), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["payment_plans.id"],
            name="fk_payment_plan_instalments_plan_id_payment_plans",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_plan_instalments"),
        sa.UniqueConstraint("plan_id", "number", name="uq_payment_plan_instalments_plan_id_number"),
    )
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("invoice_provider_id", sa.String(length=64), nullable=False),
        sa.Column("customer_provider_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", Money(), nullable=False),
        sa.Column("agreed_amount", Money(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("credit_key", sa.String(length=200), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_settlements_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_settlements"),
    )
    op.create_index("ix_settlements_org_invoice", "settlements", ["org_id", "invoice_provider_id"])


def downgrade() -> None:
    op.drop_index("ix_settlements_org_invoice", table_name="settlements")
    op.drop_table("settlements")
    op.drop_table("payment_plan_instalments")
    op.drop_table("payment_plan_invoices")
    op.drop_index("ix_payment_plans_org_customer", table_name="payment_plans")
    op.drop_table("payment_plans")
