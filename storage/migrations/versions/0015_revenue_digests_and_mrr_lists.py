"""Digests that carry revenue (`revenue:show`), and an index serving customer lists filtered or sorted by MRR.

`digest_subscription.revenue` is false for every existing subscription: a channel gets revenue figures only when an
admin asks for them. `ix_customer_mrr` (mrr, id) serves `mrr:` filters and `sort:mrr` pages without a scan.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (false) and the index."""
    op.add_column("digest_subscription",
                  sa.Column("revenue", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    op.create_index("ix_customer_mrr", "customer", ["mrr", "id"])


def downgrade() -> None:
    """Drop the index and the column."""
    op.drop_index("ix_customer_mrr", table_name="customer")
    op.execute("ALTER TABLE digest_subscription DROP COLUMN revenue")  # SQLite 3.35+ drops it in place
