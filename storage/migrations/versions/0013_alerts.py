"""Real-time alerts: the channels' rules, the outbox written in the transaction that made a change, channel pacing.

`alert_outbox` rows are claimed by whichever poster takes them (`batch`), so a crash between commit and post posts
later, and several replicas post once; `alert_channel` paces posts to about one message per second per channel.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rule, outbox and channel-pacing tables."""
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filters", sa.String(500), nullable=False, server_default=""),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("team_id", sa.String(32)),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("show_mrr", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("quiet_start", sa.String(5)),
        sa.Column("quiet_end", sa.String(5)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("removed_by", sa.String(32)),
        sa.Column("removed_at", UTCDateTime()),
        sa.Column("broken_reason", sa.String(64)),
        sa.Column("broken_at", UTCDateTime()),
        sa.Column("last_fired_at", UTCDateTime()),
    )
    op.create_index("ix_alert_rule_live", "alert_rule", ["active", "paused"])
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rule_id", sa.Integer, sa.ForeignKey("alert_rule.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("batch", sa.String(32)),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("claimed_by", sa.String(128)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("posted_at", UTCDateTime()),
        sa.Column("error", sa.String(200)),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["status", "due_at"])
    op.create_index("ix_alert_outbox_channel", "alert_outbox", ["channel_id", "status", "id"])
    op.create_index("ix_alert_outbox_batch", "alert_outbox", ["batch"])
    op.create_table(
        "alert_channel",
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("next_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the alert tables."""
    op.drop_table("alert_channel")
    op.drop_index("ix_alert_outbox_batch", table_name="alert_outbox")
    op.drop_index("ix_alert_outbox_channel", table_name="alert_outbox")
    op.drop_index("ix_alert_outbox_due", table_name="alert_outbox")
    op.drop_table("alert_outbox")
    op.drop_index("ix_alert_rule_live", table_name="alert_rule")
    op.drop_table("alert_rule")
