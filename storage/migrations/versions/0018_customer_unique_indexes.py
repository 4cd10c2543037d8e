"""Customers' unique email and external id as named unique indexes instead of table constraints.

A constraint's index cannot be dropped, so a bulk load filled it one row at a time in email order, which is random
order; an index can be dropped with the others and rebuilt once, sorted (storage.bulk.load.bulk_mode). Uniqueness is
the same. SQLite writes constraints into the table's definition, so there the table is rebuilt with every row, id and
dependent row kept (foreign keys are off during migrations: storage/migrations/env.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_COLUMNS = ("id, external_id, organization, email, email_key, seats, status, created_at, canceled_at, updated_at, "
            "mrr, currency")
_TABLE = """CREATE TABLE {name} (
    id INTEGER NOT NULL,
    external_id VARCHAR(255),
    organization VARCHAR(500) NOT NULL,
    email VARCHAR(320) NOT NULL,
    email_key VARCHAR(320) NOT NULL,
    seats INTEGER DEFAULT '0' NOT NULL,
    status VARCHAR(20) NOT NULL,
    created_at DATETIME NOT NULL,
    canceled_at DATETIME,
    updated_at DATETIME NOT NULL,
    mrr BIGINT DEFAULT '0' NOT NULL,
    currency VARCHAR(3),
    PRIMARY KEY (id),
    CONSTRAINT ck_customer_seats CHECK (seats >= 0),
    CONSTRAINT ck_customer_status CHECK (status IN ('active','trialing','past_due','unpaid','paused','incomplete',
                                                    'canceled')){uniques}
)"""
_UNIQUES = ",\n    UNIQUE (external_id),\n    UNIQUE (email_key)"


def upgrade() -> None:
    """Build the unique indexes, then drop the constraints (PostgreSQL) or rebuild the table without them (SQLite)."""
    if op.get_bind().dialect.name == "postgresql":
        _indexes()
        op.drop_constraint("customer_email_key_key", "customer", type_="unique")
        op.drop_constraint("customer_external_id_key", "customer", type_="unique")
        return
    _rebuild(uniques="")
    _indexes()
    _analyze()


def downgrade() -> None:
    """Constraints again."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("customer_email_key_key", "customer", ["email_key"])
        op.create_unique_constraint("customer_external_id_key", "customer", ["external_id"])
        op.drop_index("ux_customer_email_key", "customer")
        op.drop_index("ux_customer_external_id", "customer")
        return
    op.drop_index("ux_customer_email_key", "customer")
    op.drop_index("ux_customer_external_id", "customer")
    _rebuild(uniques=_UNIQUES)
    _analyze()


def _indexes() -> None:
    """The two unique indexes."""
    op.create_index("ux_customer_email_key", "customer", ["email_key"], unique=True)
    op.create_index("ux_customer_external_id", "customer", ["external_id"], unique=True)


def _rebuild(*, uniques: str) -> None:
    """SQLite's way to change a table's constraints: copy into a new table, swap, restore its indexes and triggers."""
    conn = op.get_bind()
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():  # dropping the table would cascade to every payment
        raise RuntimeError("foreign keys must be off while the customer table is rebuilt")
    kept = [sql for (sql,) in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'customer' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name")]
    op.execute(_TABLE.format(name="customer_rebuilt", uniques=uniques))
    op.execute(f"INSERT INTO customer_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM customer")
    op.execute("DROP TABLE customer")
    op.execute("ALTER TABLE customer_rebuilt RENAME TO customer")
    for sql in kept:
        op.execute(sql)


def _analyze() -> None:
    """Dropping the table dropped its planner statistics too; without them SQLite guesses at every index's reach.

    Exact, as after a bulk load (storage.bulk.load): sampled ones mistake status and seats for near-unique columns.
    """
    op.execute("PRAGMA analysis_limit=0")
    op.execute("ANALYZE customer")
