"""Bulk loading: the fastest path each engine offers, with indexes and per-row triggers rebuilt once afterwards."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from storage.db import CACHE_KIB
from storage.hourly import fill_statement as hourly_fill_statement
from storage.movements import recount_revenue
from storage.trends import fill_statement as daily_fill_statement

_LOADED_TABLES = ("customer", "payment", "seat_change", "mrr_movement")
_TRIGGER_TABLES = ("customer", "payment", "mrr_movement")  # whose per-row triggers keep totals recount rebuilds
SEARCH_INDEX = "customer_fts"
BULK_CACHE_KIB = -1_048_576  # 1 GiB while a bulk load rebuilds indexes (negative: KiB, SQLite's convention)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a load builds millions of row objects.

    They hold no reference cycles, but each burst of allocations makes the collector walk all of them again, over and
    over. Reference counting still frees everything as usual; the collector resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def db_ts(value: datetime | None, sqlite: bool) -> Any:
    """SQLite stores SQLAlchemy's naive-UTC text with microseconds; PostgreSQL takes aware datetimes."""
    if value is None or not sqlite:
        return value
    return value.isoformat(sep=" ", timespec="microseconds")[:26]  # cut the "+00:00" of an aware UTC instant


def bulk_mode(conn: Connection, load: Callable[[], None]) -> None:
    """Load with secondary indexes and per-row triggers off, then rebuild them once: same result, far faster."""
    if conn.dialect.name == "sqlite":
        _sqlite_bulk_mode(conn, load)
    else:
        _postgres_bulk_mode(conn, load)


def _postgres_bulk_mode(conn: Connection, load: Callable[[], None]) -> None:
    """bulk_mode's PostgreSQL half (DDL is transactional there: a failed load leaves nothing behind)."""
    indexes = list(conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint)"), {"t": list(_LOADED_TABLES)}))
    for name, _sql in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    for table in _TRIGGER_TABLES:  # USER: ours, not the foreign-key constraint triggers
        conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    load()
    for table in _TRIGGER_TABLES:
        conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    for _name, sql in indexes:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")
    recount(conn)
    conn.exec_driver_sql("ANALYZE")


def vacuum_loaded_tables(engine: Engine) -> None:
    """After a bulk load has committed, PostgreSQL: VACUUM (ANALYZE) the loaded tables (no-op on SQLite).

    Freshly loaded rows are not yet marked visible to every transaction: until a vacuum, an index-only read still
    visits each row, and the first question to read a page stamps its rows and writes the page back. Autovacuum would
    get there eventually; questions asked right after a load should not pay for it. VACUUM cannot run inside a
    transaction, hence after the load's commit.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"VACUUM (ANALYZE) {', '.join(_LOADED_TABLES)}")


def _sqlite_bulk_mode(conn: Connection, load: Callable[[], None]) -> None:
    """bulk_mode's SQLite half: indexes and triggers (the search index's among them) off, all back on."""
    # Index builds sort millions of keys: a large page cache for this load only (kept by the connection whatever
    # happens, so set back whatever happens).
    conn.exec_driver_sql(f"PRAGMA cache_size={BULK_CACHE_KIB}")
    try:
        indexes = list(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN {_LOADED_TABLES}"))
        triggers = list(conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN {_TRIGGER_TABLES}"))
        for name, _sql in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for name, _sql in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        load()
        for _name, sql in indexes + triggers:
            conn.exec_driver_sql(sql)
        # The search index is external-content FTS5 kept by those triggers: it reads every customer afresh.
        conn.exec_driver_sql(f"INSERT INTO {SEARCH_INDEX}({SEARCH_INDEX}) VALUES ('rebuild')")
        recount(conn)
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: a second, not a full scan
        conn.exec_driver_sql("ANALYZE")
        # Exact statistics for the customers, whose sampled ones take status and seats (a handful of values over
        # millions of rows) for near-unique columns: SQLite then walks a (seats, created) index where (status, seats,
        # created) holds the page. Reading those indexes whole is cheap beside the load.
        conn.exec_driver_sql("PRAGMA analysis_limit=0")
        conn.exec_driver_sql("ANALYZE customer")
    finally:
        with suppress(SQLAlchemyError):  # a broken connection is discarded by the pool anyway
            conn.exec_driver_sql(f"PRAGMA cache_size={CACHE_KIB}")


def recount(conn: Connection) -> None:
    """Recompute the trigger-kept totals from the rows."""
    conn.exec_driver_sql("DELETE FROM status_count")
    conn.exec_driver_sql("INSERT INTO status_count(status, customers, seats) "
                         "SELECT status, count(*), sum(seats) FROM customer GROUP BY status")
    conn.exec_driver_sql("DELETE FROM customer_hour")
    conn.exec_driver_sql(hourly_fill_statement(conn.dialect.name))
    conn.exec_driver_sql("DELETE FROM customer_day")
    conn.exec_driver_sql(daily_fill_statement(conn.dialect.name))
    recount_revenue(conn)  # mrr_hour, mrr_day and mrr_total
    conn.exec_driver_sql("DELETE FROM seat_count")
    conn.exec_driver_sql("INSERT INTO seat_count(status, seats, customers) "
                         "SELECT status, seats, count(*) FROM customer GROUP BY status, seats")
    day = "substr(created_at, 1, 10)" if conn.dialect.name == "sqlite" else \
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    # One pass over the payments; both totals come from its (currency, day) groups, a few thousand rows.
    days = list(conn.exec_driver_sql(f"SELECT currency, {day}, sum(amount), sum(fee), sum(refunded_amount), "
                                     "count(*) FROM payment GROUP BY 1, 2"))
    totals: dict[str, list[int]] = {}
    for currency, _day, amount, fee, refunded, count in days:
        total = totals.setdefault(currency, [0, 0, 0, 0])
        for i, value in enumerate((amount, fee, refunded, count)):
            total[i] += int(value)
    conn.exec_driver_sql("DELETE FROM payment_daily")
    conn.exec_driver_sql("DELETE FROM payment_total")
    if totals:
        conn.execute(text("INSERT INTO payment_daily(currency, day, net, count) VALUES (:c, :d, :n, :k)"),
                     [{"c": c, "d": d, "n": int(a) - int(f) - int(r), "k": int(k)} for c, d, a, f, r, k in days])
        conn.execute(text("INSERT INTO payment_total(currency, amount, fee, refunded, count) "
                          "VALUES (:c, :a, :f, :r, :k)"),
                     [{"c": c, "a": a, "f": f, "r": r, "k": k} for c, (a, f, r, k) in totals.items()])


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """The fastest load each driver offers: executemany on SQLite, COPY on PostgreSQL."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "sqlite":
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor = raw.cursor()
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                cursor.executemany(statement, batch)
                batch.clear()
        cursor.executemany(statement, batch)
        return
    cursor = raw.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # psycopg 3
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()
