"""Count seat filters from an index on (seats, customers): `seats:0` and `seats:>10` read a few entries.

The (status, seats) key cannot serve a seats-only filter, so PostgreSQL scanned all ~4,600 (status, seats) rows
at 1M customers for every `seats:` count (0.4-0.8 ms, most of the list's statement).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index the totals by seat count, covering the count itself."""
    op.create_index("ix_seat_count_seats", "seat_count", ["seats", "customers"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_seat_count_seats", table_name="seat_count")
