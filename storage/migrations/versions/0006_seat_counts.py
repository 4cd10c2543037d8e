"""Customers per (status, seats), kept by triggers: lists filtered by status and seats count without a scan.

`/customers list seats:>10` matches 44% of a million customers; PostgreSQL took 65 ms to count them on every page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UPSERT = """INSERT INTO seat_count(status, seats, customers) VALUES ({row}.status, {row}.seats, 1)
        ON CONFLICT(status, seats) DO UPDATE SET customers = seat_count.customers + 1;"""
_REMOVE = "UPDATE seat_count SET customers = customers - 1 WHERE status = {row}.status AND seats = {row}.seats;"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER seat_count_ai AFTER INSERT ON customer BEGIN {_UPSERT.format(row='new')} END",
    f"CREATE TRIGGER seat_count_ad AFTER DELETE ON customer BEGIN {_REMOVE.format(row='old')} END",
    f"""CREATE TRIGGER seat_count_au AFTER UPDATE OF status, seats ON customer BEGIN
        {_REMOVE.format(row='old')}
        {_UPSERT.format(row='new')}
    END""",
]
POSTGRES_TRIGGER = [
    f"""CREATE FUNCTION seat_count_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_REMOVE.format(row='OLD')}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {_UPSERT.format(row='NEW')}
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER seat_count_sync AFTER INSERT OR DELETE OR UPDATE OF status, seats ON customer
        FOR EACH ROW EXECUTE FUNCTION seat_count_sync()""",
]


def upgrade() -> None:
    """Create the table, fill it from the customers, then keep it in sync."""
    op.create_table(
        "seat_count",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("customers", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", "seats"),
    )
    op.execute("INSERT INTO seat_count(status, seats, customers) "
               "SELECT status, seats, count(*) FROM customer GROUP BY status, seats")
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    """Drop the triggers and the table."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("seat_count_ai", "seat_count_ad", "seat_count_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS seat_count_sync ON customer")
        op.execute("DROP FUNCTION IF EXISTS seat_count_sync")
    op.drop_table("seat_count")
