"""Live sync: the processed-event log (idempotency) and per-field sync clocks (out-of-order delivery).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A UTC timestamp column."""
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    """Create processed_event and sync_clock; existing tables are not touched."""
    op.create_table(
        "processed_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=True),
        _ts("event_created_at"),
        _ts("received_at"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.UniqueConstraint("source", "event_id", name="uq_processed_event_source_id"),
        sa.CheckConstraint("source IN ('platform','stripe')", name="ck_processed_event_source"),
        sa.CheckConstraint("outcome IN ('applied','ignored','stale')", name="ck_processed_event_outcome"),
    )
    op.create_index("ix_processed_event_received", "processed_event", ["received_at"])
    op.create_table(
        "sync_clock",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("field", sa.String(32), primary_key=True),
        _ts("at"),
    )


def downgrade() -> None:
    """Drop the sync tables."""
    op.drop_table("sync_clock")
    op.drop_index("ix_processed_event_received", table_name="processed_event")
    op.drop_table("processed_event")
