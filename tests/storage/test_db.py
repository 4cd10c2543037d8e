"""Schema management: migrations build the schema on both engines, concurrently and without losing data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.customers import count_customers
from storage.db import MMAP_BYTES, make_engine, read_scope, run_read, session_scope, upgrade
from storage.models import Customer
from storage.query import parse_query
from tests.conftest import NOW, PG_ADMIN_URL, _pg_reachable

UPGRADE_SCRIPT = "import sys; from storage.db import make_engine, upgrade; upgrade(make_engine(sys.argv[1]))"


@pytest.fixture(scope="module")
def fresh_pg_database(worker_id: str) -> Iterator[str]:
    """A PostgreSQL database of this module's own, created once (each DROP DATABASE waits for a checkpoint)."""
    if not _pg_reachable():
        pytest.skip("PostgreSQL not reachable")
    name = f"cbfresh_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, never-migrated database on each engine (PostgreSQL: its public schema dropped and made anew)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url: str = request.getfixturevalue("fresh_pg_database")
    reset = create_engine(url, poolclass=NullPool)
    with reset.begin() as conn:  # tables, triggers, functions and extensions all live in public
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    reset.dispose()
    yield url


def test_migrations_create_every_table_the_models_describe(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    # Only differences the ORM cannot express (engine-specific search indexes, check constraints) are allowed.
    significant = [d for d in diff if not (d[0] in ("remove_index", "remove_table") and _engine_specific(d))]
    assert significant == []
    engine.dispose()


def _engine_specific(diff: tuple[object, ...]) -> bool:
    """Search indexes and FTS shadow tables live outside the ORM on purpose."""
    name = getattr(diff[1], "name", "")
    return "trgm" in name or name.startswith("customer_fts")


def test_upgrade_twice_is_a_no_op_and_keeps_data(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    upgrade(engine)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with session_scope(engine, write=True) as session:
        session.add(Customer(organization="Keep Me", email="k@keep.example", email_key="k@keep.example",
                             seats=2, status="active", created_at=now, updated_at=now))
    upgrade(engine)
    with session_scope(engine) as session:
        assert session.get(Customer, 1) is not None
    engine.dispose()


def test_several_processes_upgrading_at_once_all_succeed(fresh_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", UPGRADE_SCRIPT, fresh_url], stderr=subprocess.PIPE)
             for _ in range(3)]
    results = [(p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], results
    engine = make_engine(fresh_url)
    assert "customer" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_timestamps_come_back_as_aware_utc(engine: object) -> None:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    created = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with session_scope(engine, write=True) as session:
        session.add(Customer(organization="Tz", email="t@tz.example", email_key="t@tz.example", seats=0,
                             status="active", created_at=created, updated_at=created))
    with session_scope(engine) as session:
        row = session.get(Customer, 1)
        assert row is not None
        assert row.created_at == created
        assert row.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(sqlite_engine: object) -> None:
    from sqlalchemy import Engine
    from sqlalchemy.exc import StatementError

    assert isinstance(sqlite_engine, Engine)
    with pytest.raises(StatementError, match="naive datetime"), session_scope(sqlite_engine, write=True) as session:
        session.add(Customer(organization="N", email="n@n.example", email_key="n@n.example", seats=0,
                             status="active", created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1)))


def test_upgrading_a_store_with_customers_counts_them_into_the_hourly_totals(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    upgrade(engine, "0006")  # the schema before migration 0007 added the hourly totals
    now = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    with session_scope(engine, write=True) as session:  # the columns of 0006 (the model has grown since)
        for i in range(6):
            canceled = i % 2 == 1
            session.execute(text(
                "INSERT INTO customer (organization, email, email_key, seats, status, created_at, canceled_at, "
                "updated_at) VALUES (:o, :e, :e, 1, :s, :c, :x, :u)"), {
                    "o": f"Org {i}", "e": f"o{i}@org.example", "s": "canceled" if canceled else "active",
                    "c": _stored(now - timedelta(hours=5 * i), engine), "u": _stored(now, engine),
                    "x": _stored(now - timedelta(minutes=30 * i), engine) if canceled else None})
    upgrade(engine)
    with session_scope(engine) as session:
        for text_, expected in (("created:1d", 5), ("created:3h", 1), ("canceled:7d", 3), ("canceled:1h", 1)):
            assert count_customers(session=session, query=parse_query(text_, now=now)) == expected, text_
    engine.dispose()


def _stored(at: datetime, engine: Engine) -> object:
    """An instant as a raw INSERT hands it to each engine (SQLite keeps SQLAlchemy's naive UTC text)."""
    return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if engine.dialect.name == "sqlite" \
        else at


def _kill_other_backends(url: str) -> None:
    """What a server restart or a proxy's idle timeout does to every pooled connection of the database."""
    killer = create_engine(url, poolclass=NullPool)
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.commit()
    killer.dispose()


def _customers(engine: Engine) -> int:
    """A one-statement read through read_scope."""
    with read_scope(engine) as session:
        return count_customers(session=session, query=parse_query("", now=NOW))


def test_a_read_on_postgresql_runs_outside_a_transaction(pg_url: str) -> None:
    # No BEGIN and COMMIT round trips around an answer's statement, and no connection left idle in transaction.
    engine = make_engine(pg_url)
    upgrade(engine)
    with read_scope(engine) as session:
        assert count_customers(session=session, query=parse_query("status:active", now=NOW)) >= 0
        assert session.connection().connection.dbapi_connection.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
    with session_scope(engine) as session:  # the pool gives the same connection back in transactional mode
        session.execute(text("SELECT 1"))
        assert session.connection().connection.dbapi_connection.info.transaction_status.name == "INTRANS"  # type: ignore[union-attr]
    engine.dispose()


def test_a_read_after_the_server_dropped_every_connection_gets_a_live_one(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    before = run_read(lambda: _customers(engine))
    _kill_other_backends(pg_url)
    assert run_read(lambda: _customers(engine)) == before  # the checkout ping replaced the dead connection
    engine.dispose()


def test_a_write_after_the_server_dropped_every_connection_gets_a_live_one(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    _customers(engine)
    _kill_other_backends(pg_url)
    with session_scope(engine, write=True) as session:
        session.execute(text("CREATE TEMPORARY TABLE scratch (x int)"))
        session.execute(text("INSERT INTO scratch VALUES (1)"))
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 1
    engine.dispose()


def test_every_sqlite_connection_reads_the_store_through_one_shared_memory_map(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        for conn in (first, second):
            assert 0 < conn.exec_driver_sql("PRAGMA mmap_size").scalar_one() <= MMAP_BYTES
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"  # readers beside a writer


def test_postgresql_connections_never_jit_compile_a_read(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"  # compiling cost tens of ms per costly plan
    engine.dispose()


def test_upgrading_past_the_customer_table_rebuild_keeps_every_customer_and_payment(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    upgrade(engine, "0017")  # the schema before 0018 swapped the unique constraints for unique indexes
    now = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    with session_scope(engine, write=True) as session:
        for i in range(3):
            session.execute(text(
                "INSERT INTO customer (id, external_id, organization, email, email_key, seats, status, created_at, "
                "updated_at, mrr) VALUES (:i, :x, :o, :e, :e, 1, 'active', :c, :c, 0)"),
                {"i": 10 + i, "x": f"cus_{i}", "o": f"Org {i}", "e": f"o{i}@org.example", "c": _stored(now, engine)})
            session.execute(text(
                "INSERT INTO payment (external_id, customer_id, amount, fee, refunded_amount, currency, created_at) "
                "VALUES (:x, :c, 500, 20, 0, 'usd', :t)"),
                {"x": f"ch_{i}", "c": 10 + i, "t": _stored(now, engine)})
    upgrade(engine)
    with session_scope(engine) as session:
        assert session.execute(text("SELECT count(*) FROM payment")).scalar_one() == 3  # no cascade on the swap
        assert count_customers(session=session, query=parse_query("org", now=now)) == 3  # search index kept
    with pytest.raises(IntegrityError), session_scope(engine, write=True) as session:
        session.execute(text("INSERT INTO customer (organization, email, email_key, seats, status, created_at, "
                             "updated_at, mrr) VALUES ('Dup', 'O0@org.example', 'o0@org.example', 1, 'active', "
                             ":c, :c, 0)"), {"c": _stored(now, engine)})
    with engine.connect() as conn:  # the pooled connections still enforce foreign keys
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_the_customer_table_rebuild_keeps_planner_statistics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    upgrade(engine, "0017")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO customer (organization, email, email_key, seats, status, created_at, "
                             "updated_at, mrr) VALUES ('Org', 'o@org.example', 'o@org.example', 1, 'active', "
                             "'2026-11-24 12:00:00.000000', '2026-11-24 12:00:00.000000', 0)")
        conn.exec_driver_sql("ANALYZE")
    upgrade(engine)
    with engine.connect() as conn:
        indexes = {idx for (idx,) in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'customer'")}
    assert {"ix_customer_created", "ux_customer_email_key"} <= indexes
    engine.dispose()
