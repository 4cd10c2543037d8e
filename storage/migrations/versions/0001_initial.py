"""Initial schema: customers, seat changes, payments, payouts, audit events, search index and running totals.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A UTC timestamp column."""
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    """Create the tables, then the engine-specific search index and total-keeping triggers."""
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String(255), nullable=True, unique=True),
        sa.Column("organization", sa.String(500), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("seats", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("created_at"),
        _ts("canceled_at", nullable=True),
        _ts("updated_at"),
        sa.CheckConstraint("seats >= 0", name="ck_customer_seats"),
        sa.CheckConstraint(
            "status IN ('active','trialing','past_due','unpaid','paused','incomplete','canceled')",
            name="ck_customer_status",
        ),
    )
    op.create_index("ix_customer_created", "customer", ["created_at", "id"])
    op.create_index("ix_customer_status_created", "customer", ["status", "created_at", "id"])
    op.create_index("ix_customer_seats", "customer", ["seats", "id"])
    op.create_index("ix_customer_org", "customer", ["organization", "id"])
    op.create_index("ix_customer_canceled", "customer", ["canceled_at"])

    op.create_table(
        "seat_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("old_seats", sa.Integer, nullable=False),
        sa.Column("new_seats", sa.Integer, nullable=False),
        _ts("at"),
    )
    op.create_index("ix_seat_change_at", "seat_change", ["at"])
    op.create_index("ix_seat_change_customer", "seat_change", ["customer_id", "at"])

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String(255), nullable=False, unique=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("fee", sa.BigInteger, nullable=False, server_default="0"),
        _ts("created_at"),
        sa.Column("refunded_amount", sa.BigInteger, nullable=False, server_default="0"),
        _ts("refunded_at", nullable=True),
        sa.CheckConstraint("amount >= 0 AND fee >= 0 AND refunded_amount >= 0", name="ck_payment_money"),
    )
    op.create_index("ix_payment_created", "payment", ["created_at", "id"])
    op.create_index("ix_payment_customer", "payment", ["customer_id", "created_at"])
    op.create_index(
        "ix_payment_clearing", "payment", ["created_at", "currency", "amount", "fee", "refunded_amount"]
    )

    op.create_table(
        "payout",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("external_id", sa.String(255), nullable=False, unique=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _ts("created_at"),
        _ts("arrival_date", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','in_transit','paid','failed','canceled')", name="ck_payout_status"
        ),
    )
    op.create_index("ix_payout_created", "payout", ["created_at", "id"])
    op.create_index("ix_payout_status", "payout", ["status", "currency"])

    op.create_table(
        "payment_total",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("fee", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("refunded", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "status_count",
        sa.Column("status", sa.String(20), primary_key=True),
        sa.Column("customers", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("seats", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        _ts("at"),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])

    if op.get_bind().dialect.name == "sqlite":
        _sqlite_extras()
    else:
        _postgres_extras()


def _sqlite_extras() -> None:
    """FTS5 trigram index for substring search, and triggers that keep it and the totals in sync."""
    for statement in SQLITE_EXTRAS:
        op.execute(statement)


def _postgres_extras() -> None:
    """pg_trgm indexes for substring search, and triggers that keep the totals in sync."""
    for statement in POSTGRES_EXTRAS:
        op.execute(statement)


SQLITE_EXTRAS = [
    "CREATE VIRTUAL TABLE customer_fts USING fts5(organization, email, content='customer', "
    "content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER customer_fts_ai AFTER INSERT ON customer BEGIN
        INSERT INTO customer_fts(rowid, organization, email) VALUES (new.id, new.organization, new.email);
    END""",
    """CREATE TRIGGER customer_fts_ad AFTER DELETE ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, organization, email)
        VALUES ('delete', old.id, old.organization, old.email);
    END""",
    """CREATE TRIGGER customer_fts_au AFTER UPDATE OF organization, email ON customer BEGIN
        INSERT INTO customer_fts(customer_fts, rowid, organization, email)
        VALUES ('delete', old.id, old.organization, old.email);
        INSERT INTO customer_fts(rowid, organization, email) VALUES (new.id, new.organization, new.email);
    END""",
    """CREATE TRIGGER status_count_ai AFTER INSERT ON customer BEGIN
        INSERT INTO status_count(status, customers, seats) VALUES (new.status, 1, new.seats)
        ON CONFLICT(status) DO UPDATE SET customers = customers + 1, seats = seats + excluded.seats;
    END""",
    """CREATE TRIGGER status_count_ad AFTER DELETE ON customer BEGIN
        UPDATE status_count SET customers = customers - 1, seats = seats - old.seats WHERE status = old.status;
    END""",
    """CREATE TRIGGER status_count_au AFTER UPDATE OF status, seats ON customer BEGIN
        UPDATE status_count SET customers = customers - 1, seats = seats - old.seats WHERE status = old.status;
        INSERT INTO status_count(status, customers, seats) VALUES (new.status, 1, new.seats)
        ON CONFLICT(status) DO UPDATE SET customers = customers + 1, seats = seats + excluded.seats;
    END""",
    """CREATE TRIGGER payment_total_ai AFTER INSERT ON payment BEGIN
        INSERT INTO payment_total(currency, amount, fee, refunded, count)
        VALUES (new.currency, new.amount, new.fee, new.refunded_amount, 1)
        ON CONFLICT(currency) DO UPDATE SET amount = amount + excluded.amount, fee = fee + excluded.fee,
            refunded = refunded + excluded.refunded, count = count + 1;
    END""",
    """CREATE TRIGGER payment_total_ad AFTER DELETE ON payment BEGIN
        UPDATE payment_total SET amount = amount - old.amount, fee = fee - old.fee,
            refunded = refunded - old.refunded_amount, count = count - 1 WHERE currency = old.currency;
    END""",
    """CREATE TRIGGER payment_total_au AFTER UPDATE OF amount, fee, refunded_amount, currency ON payment BEGIN
        UPDATE payment_total SET amount = amount - old.amount, fee = fee - old.fee,
            refunded = refunded - old.refunded_amount, count = count - 1 WHERE currency = old.currency;
        INSERT INTO payment_total(currency, amount, fee, refunded, count)
        VALUES (new.currency, new.amount, new.fee, new.refunded_amount, 1)
        ON CONFLICT(currency) DO UPDATE SET amount = amount + excluded.amount, fee = fee + excluded.fee,
            refunded = refunded + excluded.refunded, count = count + 1;
    END""",
]

POSTGRES_EXTRAS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customer_org_trgm ON customer USING gin (lower(organization) gin_trgm_ops)",
    "CREATE INDEX ix_customer_email_trgm ON customer USING gin (email_key gin_trgm_ops)",
    """CREATE FUNCTION status_count_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE status_count SET customers = customers - 1, seats = seats - OLD.seats
            WHERE status = OLD.status;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO status_count(status, customers, seats) VALUES (NEW.status, 1, NEW.seats)
            ON CONFLICT (status) DO UPDATE SET customers = status_count.customers + 1,
                seats = status_count.seats + EXCLUDED.seats;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER status_count_sync AFTER INSERT OR DELETE OR UPDATE OF status, seats ON customer
        FOR EACH ROW EXECUTE FUNCTION status_count_sync()""",
    """CREATE FUNCTION payment_total_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE payment_total SET amount = amount - OLD.amount, fee = fee - OLD.fee,
                refunded = refunded - OLD.refunded_amount, count = count - 1 WHERE currency = OLD.currency;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO payment_total(currency, amount, fee, refunded, count)
            VALUES (NEW.currency, NEW.amount, NEW.fee, NEW.refunded_amount, 1)
            ON CONFLICT (currency) DO UPDATE SET amount = payment_total.amount + EXCLUDED.amount,
                fee = payment_total.fee + EXCLUDED.fee, refunded = payment_total.refunded + EXCLUDED.refunded,
                count = payment_total.count + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER payment_total_sync AFTER INSERT OR DELETE OR UPDATE OF amount, fee, refunded_amount, currency
        ON payment FOR EACH ROW EXECUTE FUNCTION payment_total_sync()""",
]


def downgrade() -> None:
    """Drop everything this revision made."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS customer_fts")
    for table in ("audit_event", "status_count", "payment_total", "payout", "payment", "seat_change", "customer"):
        op.drop_table(table)
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS status_count_sync")
        op.execute("DROP FUNCTION IF EXISTS payment_total_sync")
