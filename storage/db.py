"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every process that upgrades this database.
_PG_MIGRATION_LOCK = 7_202_611_24
CACHE_KIB = -32_768  # SQLite page cache per connection: 32 MiB (negative: KiB, SQLite's convention)
# SQLite reads the store through a memory map: a question on a pooled connection that has not read those pages yet
# takes them from the OS's page cache, shared by every connection, instead of copying each into its own cache.
MMAP_BYTES = 1 << 32  # SQLite lowers it to its build's limit (2 GiB in Debian's)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the pragmas and pool settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("pool_size", 16)  # one connection per busy listener thread, without waiting
        kwargs.setdefault("max_overflow", 32)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # A server restart or a proxy's idle timeout closes pooled connections: a ping at checkout replaces a dead one
    # before a user's request meets it.
    kwargs.setdefault("pool_pre_ping", True)
    # No JIT: it compiles a query whose estimated cost is high, and a plan that switches a planner method off
    # (storage.customers) is costed in the billions, so a millisecond read waited tens of ms for its compilation.
    kwargs.setdefault("connect_args", {"options": "-c jit=off"})
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets readers run beside a writer; foreign keys are off in SQLite unless asked for."""
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" hook issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute(f"PRAGMA cache_size={CACHE_KIB}")
    cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cur.close()
    dbapi_conn.create_function("py_lower", 1, _py_lower, deterministic=True)


def _py_lower(value: object) -> object:
    """Python's Unicode lower() for SQL (SQLite's own lower() folds ASCII only); re-checks non-ASCII search terms."""
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(conn: Any) -> None:
    """Take the write lock at BEGIN so two writers queue instead of failing with 'database is locked'."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error, so nothing is half-written."""
    with engine.connect() as conn:
        conn.info["write"] = write
        with Session(bind=conn, expire_on_commit=False) as session:  # rows stay readable after commit
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                conn.info["write"] = False


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for answers that only read: on PostgreSQL in autocommit, so no BEGIN and COMMIT round trips.

    Each statement sees what was committed before it started, exactly as READ COMMITTED did inside a transaction;
    SQLite keeps its deferred transaction, which costs nothing there. Never write through it.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")  # reset when the connection goes back to the pool
        with Session(bind=conn, expire_on_commit=False) as session:
            yield session


def run_read(read: Callable[[], T]) -> T:
    """Run a read (an answer); kept as the one place answers pass through, it is a plain call."""
    return read()


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and at this engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations; safe when several processes start at once (file lock or advisory lock)."""
    cfg = alembic_config(engine)
    if engine.dialect.name == "sqlite":
        database = engine.url.database or ""
        if database in ("", ":memory:"):
            command.upgrade(cfg, revision)
            return
        lock_path = Path(os.path.abspath(database) + ".migrate.lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                command.upgrade(cfg, revision)
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")  # refresh planner statistics when they are stale
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        try:
            command.upgrade(cfg, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()


def check(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query (health checks)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
