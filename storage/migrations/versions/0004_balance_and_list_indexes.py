"""Daily net earnings per currency kept by triggers (the balance reads days, not payments); list indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SQLITE_DAY = "substr({row}.created_at, 1, 10)"
_SQLITE_NET = "{row}.amount - {row}.fee - {row}.refunded_amount"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER payment_daily_ai AFTER INSERT ON payment BEGIN
        INSERT INTO payment_daily(currency, day, net, count)
        VALUES (new.currency, {_SQLITE_DAY.format(row="new")}, {_SQLITE_NET.format(row="new")}, 1)
        ON CONFLICT(currency, day) DO UPDATE SET net = net + excluded.net, count = count + 1;
    END""",
    f"""CREATE TRIGGER payment_daily_ad AFTER DELETE ON payment BEGIN
        UPDATE payment_daily SET net = net - ({_SQLITE_NET.format(row="old")}), count = count - 1
        WHERE currency = old.currency AND day = {_SQLITE_DAY.format(row="old")};
    END""",
    f"""CREATE TRIGGER payment_daily_au AFTER UPDATE OF amount, fee, refunded_amount, currency, created_at
    ON payment BEGIN
        UPDATE payment_daily SET net = net - ({_SQLITE_NET.format(row="old")}), count = count - 1
        WHERE currency = old.currency AND day = {_SQLITE_DAY.format(row="old")};
        INSERT INTO payment_daily(currency, day, net, count)
        VALUES (new.currency, {_SQLITE_DAY.format(row="new")}, {_SQLITE_NET.format(row="new")}, 1)
        ON CONFLICT(currency, day) DO UPDATE SET net = net + excluded.net, count = count + 1;
    END""",
]
POSTGRES_TRIGGER = [
    """CREATE FUNCTION payment_daily_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE payment_daily SET net = net - (OLD.amount - OLD.fee - OLD.refunded_amount), count = count - 1
            WHERE currency = OLD.currency AND day = to_char(OLD.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD');
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO payment_daily(currency, day, net, count)
            VALUES (NEW.currency, to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                    NEW.amount - NEW.fee - NEW.refunded_amount, 1)
            ON CONFLICT (currency, day) DO UPDATE SET net = payment_daily.net + EXCLUDED.net,
                count = payment_daily.count + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER payment_daily_sync AFTER INSERT OR DELETE
        OR UPDATE OF amount, fee, refunded_amount, currency, created_at ON payment
        FOR EACH ROW EXECUTE FUNCTION payment_daily_sync()""",
]
BACKFILL = {
    "sqlite": "INSERT INTO payment_daily(currency, day, net, count) SELECT currency, substr(created_at, 1, 10), "
              "sum(amount - fee - refunded_amount), count(*) FROM payment GROUP BY 1, 2",
    "postgresql": "INSERT INTO payment_daily(currency, day, net, count) SELECT currency, "
                  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), sum(amount - fee - refunded_amount), "
                  "count(*) FROM payment GROUP BY 1, 2",
}


def upgrade() -> None:
    """Create payment_daily, fill it from existing payments, keep it in sync; add indexes for filtered lists."""
    op.create_table(
        "payment_daily",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("net", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL[dialect])
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGER:
        op.execute(statement)
    op.create_index("ix_customer_status_seats", "customer", ["status", "seats", "created_at", "id"])
    op.create_index("ix_customer_seats_created", "customer", ["seats", "created_at", "id"])
    op.create_index("ix_customer_status_canceled", "customer", ["status", "canceled_at", "id"])


def downgrade() -> None:
    """Drop what this revision added."""
    op.drop_index("ix_customer_status_canceled", "customer")
    op.drop_index("ix_customer_seats_created", "customer")
    op.drop_index("ix_customer_status_seats", "customer")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("payment_daily_ai", "payment_daily_ad", "payment_daily_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS payment_daily_sync ON payment")
        op.execute("DROP FUNCTION IF EXISTS payment_daily_sync")
    op.drop_table("payment_daily")
