"""Alembic environment: runs migrations on the engine handed over by storage.db.upgrade."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def run() -> None:
    """Run migrations online, on the caller's engine when there is one."""
    engine = context.config.attributes.get("engine")
    if engine is None:
        engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A migration that rebuilds a table drops it first, and with foreign keys on that drop would cascade to
            # every row referencing it (Alembic's batch mode asks for the same). The pragma is a no-op inside a
            # transaction, so it goes straight to the driver, outside one.
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()  # nothing is pending after a commit; after a failure, the pragma needs none
                _driver(connection).execute("PRAGMA foreign_keys=ON")  # the pooled connection goes back as it came


def _driver(connection: Connection) -> Any:
    """The sqlite3 connection under SQLAlchemy's."""
    return connection.connection.driver_connection


run()
