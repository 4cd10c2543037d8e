"""One time-ordered payment index: the covering clearing index also orders payment lists.

With both, SQLite's planner picked the narrower (created_at, id) index for the balance's partial-day sums and read
every row behind it (60 ms at 5.5M payments instead of a few); it also cost every payment write and 12 s per bulk load.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the narrower index; ix_payment_clearing (created_at, ...) serves the same ranges and orders."""
    op.drop_index("ix_payment_created", table_name="payment")


def downgrade() -> None:
    """Bring the narrower index back."""
    op.create_index("ix_payment_created", "payment", ["created_at", "id"])
