"""Signups and cancellations per UTC hour, kept by triggers: `new 7d` and `churned 30d` count without a scan.

Counting a month of cancellations read 73,000 index entries at 1M customers (PostgreSQL 8-12 ms, twice SQLite).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_HOUR = "substr({}, 1, 13)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC: the key is 'YYYY-MM-DD HH'
POSTGRES_HOUR = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
_CANCELED = "{row}.status = 'canceled' AND {row}.canceled_at IS NOT NULL"


def _add(hour: str, row: str) -> str:
    """Count a customer row in: its signup hour, and its cancellation hour when it is canceled."""
    signup = hour.format(f"{row}.created_at")
    cancel = hour.format(f"{row}.canceled_at")
    return f"""INSERT INTO customer_hour(hour, signups, cancellations) VALUES ({signup}, 1, 0)
            ON CONFLICT(hour) DO UPDATE SET signups = customer_hour.signups + 1;
        INSERT INTO customer_hour(hour, signups, cancellations) SELECT {cancel}, 0, 1 WHERE {_CANCELED.format(row=row)}
            ON CONFLICT(hour) DO UPDATE SET cancellations = customer_hour.cancellations + 1;"""


def _remove(hour: str, row: str) -> str:
    """Count a customer row out again."""
    return f"""UPDATE customer_hour SET signups = signups - 1 WHERE hour = {hour.format(f"{row}.created_at")};
        UPDATE customer_hour SET cancellations = cancellations - 1
            WHERE {_CANCELED.format(row=row)} AND hour = {hour.format(f"{row}.canceled_at")};"""


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER customer_hour_ai AFTER INSERT ON customer BEGIN {_add(SQLITE_HOUR, 'new')} END",
    f"CREATE TRIGGER customer_hour_ad AFTER DELETE ON customer BEGIN {_remove(SQLITE_HOUR, 'old')} END",
    f"""CREATE TRIGGER customer_hour_au AFTER UPDATE OF created_at, status, canceled_at ON customer BEGIN
        {_remove(SQLITE_HOUR, 'old')}
        {_add(SQLITE_HOUR, 'new')}
    END""",
]
POSTGRES_TRIGGER = [
    f"""CREATE FUNCTION customer_hour_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_remove(POSTGRES_HOUR, 'OLD')}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {_add(POSTGRES_HOUR, 'NEW')}
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER customer_hour_sync AFTER INSERT OR DELETE OR UPDATE OF created_at, status, canceled_at
        ON customer FOR EACH ROW EXECUTE FUNCTION customer_hour_sync()""",
]


def fill_statement(dialect: str) -> str:
    """Every customer's signup and cancellation hours, grouped (the migration and bulk loads share it)."""
    hour = SQLITE_HOUR if dialect == "sqlite" else POSTGRES_HOUR
    return f"""INSERT INTO customer_hour(hour, signups, cancellations)
        SELECT hour, sum(signups), sum(cancellations) FROM (
            SELECT {hour.format('created_at')} AS hour, 1 AS signups, 0 AS cancellations FROM customer
            UNION ALL
            SELECT {hour.format('canceled_at')}, 0, 1 FROM customer WHERE {_CANCELED.format(row='customer')}
        ) AS hours GROUP BY hour"""


def upgrade() -> None:
    """Create the table, fill it from the customers, then keep it in sync."""
    op.create_table(
        "customer_hour",
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("signups", sa.BigInteger(), nullable=False),
        sa.Column("cancellations", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(fill_statement(dialect))
    op.execute("ANALYZE customer_hour")  # without statistics PostgreSQL reads the whole table for a week's hours
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    """Drop the triggers and the table."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("customer_hour_ai", "customer_hour_ad", "customer_hour_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS customer_hour_sync ON customer")
        op.execute("DROP FUNCTION IF EXISTS customer_hour_sync")
    op.drop_table("customer_hour")
