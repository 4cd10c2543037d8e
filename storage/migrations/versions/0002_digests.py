"""Daily digests: one subscription per channel, and one run per subscription and local day (the exactly-once key).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A UTC timestamp column."""
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    """Create digest_subscription and digest_run."""
    op.create_table(
        "digest_subscription",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("quiet_skip", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(32), nullable=False),
        _ts("created_at"),
        sa.Column("updated_by", sa.String(32), nullable=False),
        _ts("updated_at"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("deleted_by", sa.String(32), nullable=True),
        _ts("deleted_at", nullable=True),
        sa.Column("broken_reason", sa.String(64), nullable=True),
        _ts("broken_at", nullable=True),
        _ts("last_sent_at", nullable=True),
    )
    # One live subscription per channel; unsubscribed rows stay for the audit trail and their runs.
    op.create_index(
        "uq_digest_subscription_channel", "digest_subscription", ["channel_id"], unique=True,
        sqlite_where=sa.text("active"), postgresql_where=sa.text("active"),
    )
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscription_id", sa.Integer,
                  sa.ForeignKey("digest_subscription.id", ondelete="CASCADE"), nullable=False),
        sa.Column("local_day", sa.Date, nullable=False),
        _ts("scheduled_for"),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("claimed_at"),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _ts("retry_at", nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        _ts("posted_at", nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.UniqueConstraint("subscription_id", "local_day", name="uq_digest_run_day"),
        sa.CheckConstraint("status IN ('claimed','posted','failed','skipped')", name="ck_digest_run_status"),
    )


def downgrade() -> None:
    """Drop the digest tables."""
    op.drop_table("digest_run")
    op.drop_index("uq_digest_subscription_channel", table_name="digest_subscription")
    op.drop_table("digest_subscription")
