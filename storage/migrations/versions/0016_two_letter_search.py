"""Two-letter searches through SQLite's trigram index: its vocabulary (fts5vocab) and the few very short names.

A two-letter term has no trigram of its own, but every row holding it in a value of 3+ characters holds one of the
index's trigrams that contain it: the vocabulary lists them, one row per (trigram, row) ('instance': a seek for the
next first character reads one entry, not a trigram's whole row list), and their rows counted bound the matches;
and a MATCH of those trigrams OR'ed collects the candidates, so a rare two-letter term no longer scans the table.
Organizations under 3 characters hold no trigram (an email always has 3+): a partial index lists those rows.
PostgreSQL: pg_trgm serves a regex of ASCII classes around the pair, but no class can name every letter beside it:
a partial index lists the rows holding characters beyond ASCII.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The vocabulary table (it stores nothing: it reads the index) and the short-name index; PostgreSQL's list."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute("CREATE INDEX customer_trgm_non_ascii ON customer (id) "
                   "WHERE organization ~ '[^\\x01-\\x7f]' OR email_key ~ '[^\\x01-\\x7f]'")
        return
    op.execute("CREATE VIRTUAL TABLE customer_fts_vocab USING fts5vocab(customer_fts, 'instance')")
    op.execute("CREATE INDEX customer_fts_short_org ON customer(id) WHERE length(organization) < 3")


def downgrade() -> None:
    """Drop them."""
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP INDEX customer_trgm_non_ascii")
        return
    op.execute("DROP INDEX customer_fts_short_org")
    op.execute("DROP TABLE customer_fts_vocab")
