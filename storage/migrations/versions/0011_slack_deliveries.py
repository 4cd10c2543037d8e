"""Remember the Slack deliveries acted on for a day, so a retried event or click never acts twice.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the delivery table and its age index (old rows are pruned as new ones arrive)."""
    op.create_table(
        "slack_delivery",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_slack_delivery_at", "slack_delivery", ["received_at"])


def downgrade() -> None:
    """Drop the delivery table."""
    op.drop_index("ix_slack_delivery_at", table_name="slack_delivery")
    op.drop_table("slack_delivery")
