"""Revenue: each customer's MRR and currency, the MRR movements, and the trigger-kept totals figures read.

Existing stores get MRR 0 and no currency (unknown until a source states it) and no movements: nothing is invented.
`mrr_day` and `mrr_hour` sum the movements per UTC day (and hour), currency and kind, so a window's movements are
its whole days, the whole hours of its two partial days and the rows of its two partial hours; `mrr_total` holds MRR
and paying customers per currency as of now, and MRR at an earlier instant is that minus the movements since.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SQLITE_HOUR = "substr({}, 1, 13)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC: the key is 'YYYY-MM-DD HH'
POSTGRES_HOUR = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
SQLITE_DAY = "substr({}, 1, 10)"
POSTGRES_DAY = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _hour_add(hour: str, day: str, row: str) -> str:
    """Count a movement into its hour and its day."""
    return "".join(f"""INSERT INTO mrr_{table}({table}, currency, kind, amount, count)
            VALUES ({key.format(f'{row}.at')}, {row}.currency, {row}.kind, {row}.delta, 1)
            ON CONFLICT({table}, currency, kind) DO UPDATE
            SET amount = mrr_{table}.amount + excluded.amount, count = mrr_{table}.count + 1;"""
                   for table, key in (("hour", hour), ("day", day)))


def _hour_remove(hour: str, day: str, row: str) -> str:
    """Count a movement out of its hour and its day (its customer was deleted)."""
    return "".join(f"""UPDATE mrr_{table} SET amount = amount - {row}.delta, count = count - 1
            WHERE {table} = {key.format(f'{row}.at')} AND currency = {row}.currency AND kind = {row}.kind;"""
                   for table, key in (("hour", hour), ("day", day)))


_PAYING = "CASE WHEN {row}.mrr > 0 THEN 1 ELSE 0 END"


def _total_add(row: str) -> str:
    """Add a customer's MRR to its currency's total."""
    return f"""INSERT INTO mrr_total(currency, mrr, paying)
            SELECT {row}.currency, {row}.mrr, {_PAYING.format(row=row)} WHERE {row}.currency IS NOT NULL
            ON CONFLICT(currency) DO UPDATE
            SET mrr = mrr_total.mrr + excluded.mrr, paying = mrr_total.paying + excluded.paying;"""


def _total_remove(row: str) -> str:
    """Take a customer's MRR out of its currency's total."""
    return f"""UPDATE mrr_total SET mrr = mrr - {row}.mrr, paying = paying - {_PAYING.format(row=row)}
            WHERE currency = {row}.currency;"""


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER mrr_hour_ai AFTER INSERT ON mrr_movement BEGIN {_hour_add(SQLITE_HOUR, SQLITE_DAY, 'new')} END",
    f"CREATE TRIGGER mrr_hour_ad AFTER DELETE ON mrr_movement BEGIN {_hour_remove(SQLITE_HOUR, SQLITE_DAY, 'old')} END",
    f"CREATE TRIGGER mrr_total_ai AFTER INSERT ON customer WHEN new.currency IS NOT NULL BEGIN "
    f"{_total_add('new')} END",
    f"CREATE TRIGGER mrr_total_ad AFTER DELETE ON customer WHEN old.currency IS NOT NULL BEGIN "
    f"{_total_remove('old')} END",
    f"""CREATE TRIGGER mrr_total_au AFTER UPDATE OF mrr, currency ON customer BEGIN
        {_total_remove('old')}
        {_total_add('new')}
    END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION mrr_hour_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            {_hour_remove(POSTGRES_HOUR, POSTGRES_DAY, 'OLD')}
        ELSE
            {_hour_add(POSTGRES_HOUR, POSTGRES_DAY, 'NEW')}
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mrr_hour_sync AFTER INSERT OR DELETE ON mrr_movement
        FOR EACH ROW EXECUTE FUNCTION mrr_hour_sync()""",
    f"""CREATE FUNCTION mrr_total_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.currency IS NOT NULL THEN
            {_total_remove('OLD')}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.currency IS NOT NULL THEN
            {_total_add('NEW')}
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER mrr_total_sync AFTER INSERT OR DELETE OR UPDATE OF mrr, currency ON customer
        FOR EACH ROW EXECUTE FUNCTION mrr_total_sync()""",
]


def upgrade() -> None:
    """Add the customer columns, the movement table and the totals, then keep the totals in sync."""
    op.add_column("customer", sa.Column("mrr", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("customer", sa.Column("currency", sa.String(length=3), nullable=True))
    op.create_table(
        "mrr_movement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("old_mrr", sa.BigInteger(), nullable=False),
        sa.Column("new_mrr", sa.BigInteger(), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_event", sa.String(length=255), nullable=True),
    )
    op.create_index("ix_mrr_movement_at", "mrr_movement", ["at"])
    op.create_index("ix_mrr_movement_customer", "mrr_movement", ["customer_id", "at"])
    # Largest movements first, the latest first among equal sizes (per-seat prices make many): both walks go backward.
    op.create_index("ix_mrr_movement_rank", "mrr_movement", ["currency", "kind", sa.text("abs(delta)"), "at"])
    op.create_table(
        "mrr_hour",
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("hour", "currency", "kind"),
    )
    op.create_table(
        "mrr_day",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("day", "currency", "kind"),
    )
    op.create_table(
        "mrr_total",
        sa.Column("currency", sa.String(length=3), primary_key=True),
        sa.Column("mrr", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("paying", sa.BigInteger(), nullable=False, server_default="0"),
    )
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Drop the triggers, the tables and the customer columns."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("mrr_hour_ai", "mrr_hour_ad", "mrr_total_ai", "mrr_total_ad", "mrr_total_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS mrr_total_sync ON customer")
        op.execute("DROP FUNCTION IF EXISTS mrr_total_sync")
    op.drop_table("mrr_total")
    op.drop_table("mrr_day")
    op.drop_table("mrr_hour")
    op.drop_table("mrr_movement")  # its trigger and function go with it on PostgreSQL
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS mrr_hour_sync")
    for column in ("currency", "mrr"):  # SQLite 3.35+ drops an unindexed column in place, keeping the triggers
        op.execute(f"ALTER TABLE customer DROP COLUMN {column}")
