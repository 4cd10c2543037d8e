"""PostgreSQL: one trigram index over each customer's organization and email together, for searches of several words.

A word matches the organization or the email, so each word was two GIN conditions OR'ed, and a question of several
words several such pairs AND'ed: PostgreSQL takes words as independent, could leave a pair's bitmaps out and fetch
many rows to keep a few (bench/README.md, session 7). Over `lower(organization) || chr(31) || email_key` every word
is one condition on one index, and GIN intersects them in a single scan.
chr(31) cannot occur in a search term (control characters are refused), so no word spans the two values. SQLite's
FTS5 index already holds both values and intersects every term's trigrams.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Build the index (PostgreSQL only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_customer_text_trgm ON customer "
                   "USING gin ((lower(organization) || chr(31) || email_key) gin_trgm_ops)")


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_customer_text_trgm")
