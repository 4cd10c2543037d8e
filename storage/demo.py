"""Deterministic, realistic demo data, bulk-loaded fast enough for a million customers."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from storage.db import session_scope
from storage.demo_sql import insert_payments, payout_rows
from storage.models import Customer

FIRST = ("Avery Blake Carmen Dana Elena Farah Gabriel Hana Ivan Jonas Kemal Lena Mateo Nora Omar Priya Quinn Rosa "
         "Sven Tariq Uma Viktor Wen Ximena Yusuf Zoe Aiko Bruno Chloe Diego").lower().split()
LAST = ("Adams Becker Chen Dubois Evans Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau Novak Okafor Petrov "
        "Quist Rossi Silva Tanaka Ueda Vargas Weber Xu Yilmaz Zimmer").lower().split()
ORG_A = (
    "Northwind", "Blue Harbor", "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
    "Cyberdyne", "Tyrell", "Soylent", "Aperture", "Wonka", "Oscorp", "Massive Dynamic", "Pied Piper", "Bluth",
    "Dunder", "Sterling Cooper", "Prestige", "Monarch", "Zenith", "Aurora", "Summit", "Redwood", "Silverline",
    "Ironclad", "Evergreen", "Brightpath", "Nimbus", "Quantum", "Polaris", "Horizon", "Copperleaf", "Riverstone",
    "Lakeside", "Falcon", "Orchid", "Granite", "Meridian", "Cobalt", "Atlas", "Beacon"
)
ORG_B = (
    "Analytics", "Labs", "Systems", "Robotics", "Health", "Logistics", "Capital", "Studio", "AI", "Software",
    "Foods", "Energy", "Media", "Insurance", "Ventures", "Networks", "Bio", "Legal", "Retail", "Security", "Cloud",
    "Payments", "Travel", "Learning", "Freight"
)
ORG_C = ("Inc", "LLC", "GmbH", "Ltd", "SA", "BV", "Co", "AG", "", "")
STATUS_CUTS = ((0.62, "active"), (0.80, "canceled"), (0.88, "trialing"), (0.93, "past_due"), (0.96, "incomplete"),
               (0.98, "unpaid"), (1.0, "paused"))
DAYS = 540
CUSTOMER_COLUMNS = ("id", "external_id", "organization", "email", "email_key", "seats", "status", "created_at",
                    "canceled_at", "updated_at")


@dataclass(frozen=True)
class DemoSummary:
    """What the generator wrote."""

    customers: int
    payments: int
    payouts: int
    seat_changes: int


def has_customers(*, engine: Engine) -> bool:
    """True when the store already holds customers (demo data only fills an empty one)."""
    with session_scope(engine) as session:
        return bool(session.connection().execute(select(func.count()).select_from(Customer)).scalar_one())


def fill_demo_data(*, engine: Engine, customers: int, seed: int, now: datetime) -> DemoSummary:
    """Generate customers, seat history, monthly payments and weekly payouts, all relative to `now`."""
    rng = random.Random(f"{seed}:{now.date().isoformat()}")
    now = now.astimezone(UTC)
    sqlite = engine.dialect.name == "sqlite"
    counts: dict[str, int] = {}
    with session_scope(engine, write=True) as session:
        conn = session.connection()
        base = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one())

        def load() -> None:
            growth: list[tuple[int, int, datetime]] = []
            _bulk(conn, "customer", CUSTOMER_COLUMNS, _customers(rng, now, customers, base, growth, sqlite))
            history = list(_history(rng, now, growth, sqlite))
            _bulk(conn, "seat_change", ("customer_id", "old_seats", "new_seats", "at"), history)
            counts["payments"] = insert_payments(conn, now=now, base=base)
            payouts = payout_rows(conn, now=now)
            _bulk(conn, "payout", ("external_id", "amount", "currency", "status", "created_at", "arrival_date"),
                  [(*row[:4], _ts(row[4], sqlite), _ts(row[5], sqlite)) for row in payouts])
            counts.update(seat_changes=len(history), payouts=len(payouts))

        _bulk_mode(conn, load)
    return DemoSummary(customers=customers, **counts)


def _ts(value: datetime | None, sqlite: bool) -> Any:
    """SQLite stores SQLAlchemy's naive-UTC text with microseconds; PostgreSQL takes aware datetimes."""
    if value is None or not sqlite:
        return value
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _customers(
    rng: random.Random, now: datetime, n: int, base: int, growth: list[tuple[int, int, datetime]], sqlite: bool
) -> Iterator[tuple[Any, ...]]:
    """Customer rows: signups over 18 months (every recent day too), a realistic status and seat mix."""
    rand, combos = rng.random, len(ORG_A) * len(ORG_B)
    updated = _ts(now, sqlite)
    for i in range(n):
        cid = base + i + 1
        a, b, c = ORG_A[i % len(ORG_A)], ORG_B[(i // len(ORG_A)) % len(ORG_B)], ORG_C[(i * 7) % len(ORG_C)]
        domain = f"{a.lower().replace(' ', '')}{b.lower()}{i // combos or ''}.{'de' if c in ('GmbH', 'AG') else 'com'}"
        email = f"{FIRST[int(rand() * 30)]}.{LAST[int(rand() * 26)]}@{domain}"
        age = rand() * 7 if i % 30 == 0 else DAYS * (1 - rand() ** 0.7)
        created = now - timedelta(days=age)
        roll = rand()
        status = next(name for cut, name in STATUS_CUTS if roll < cut)
        if age > 30 and status in ("trialing", "incomplete"):
            status = "active"
        roll = rand()
        seats = (0 if roll < 0.08 else 1 if roll < 0.23 else 2 + int(rand() * 19) if roll < 0.93
                 else 21 + int(rand() * 80) if roll < 0.99 else 100 + int(rand() * 1900))
        canceled = created + (now - created) * rand() ** 0.5 if status == "canceled" else None
        if seats >= 2 and status != "canceled" and rand() < 0.125:
            growth.append((cid, seats, created))
        yield (cid, f"cus_demo_{cid:07d}", f"{a} {b} {c}".strip(), email, email, seats, status, _ts(created, sqlite),
               _ts(canceled, sqlite), updated)


def _history(
    rng: random.Random, now: datetime, growth: list[tuple[int, int, datetime]], sqlite: bool
) -> Iterator[tuple[Any, ...]]:
    """One seat increase for about one live org in eight, skewed recent so digests have growth signals."""
    for cid, seats, created in growth:
        old = max(1, seats - 1 - int(rng.random() * max(1, seats // 2)))
        at = now - (now - created) * rng.random() ** 3
        yield (cid, old, seats, _ts(at, sqlite))


def _bulk_mode(conn: Connection, load: Callable[[], None]) -> None:
    """Load with secondary indexes and per-row triggers off, then rebuild them once: same result, far faster."""
    tables = ("customer", "payment", "seat_change")
    if conn.dialect.name == "sqlite":
        indexes = list(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN {tables}"))
        triggers = list(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('customer', 'payment')"))
        for name, _sql in indexes + triggers:
            conn.exec_driver_sql(f"DROP {'INDEX' if (name, _sql) in indexes else 'TRIGGER'} {name}")
        load()
        for _name, sql in indexes + triggers:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")
    else:
        indexes = list(conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)"), {"t": list(tables)}))
        for name, _sql in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql("ALTER TABLE customer DISABLE TRIGGER status_count_sync")
        conn.exec_driver_sql("ALTER TABLE payment DISABLE TRIGGER payment_total_sync")
        load()
        conn.exec_driver_sql("ALTER TABLE customer ENABLE TRIGGER status_count_sync")
        conn.exec_driver_sql("ALTER TABLE payment ENABLE TRIGGER payment_total_sync")
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")
    _recount(conn)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: a second, not a full scan
    conn.exec_driver_sql("ANALYZE")


def _recount(conn: Connection) -> None:
    """Recompute the trigger-kept totals from the rows."""
    conn.exec_driver_sql("DELETE FROM status_count")
    conn.exec_driver_sql("INSERT INTO status_count(status, customers, seats) "
                         "SELECT status, count(*), sum(seats) FROM customer GROUP BY status")
    day = "substr(created_at, 1, 10)" if conn.dialect.name == "sqlite" else \
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    conn.exec_driver_sql("DELETE FROM payment_daily")
    conn.exec_driver_sql(f"INSERT INTO payment_daily(currency, day, net, count) SELECT currency, {day}, "
                         "sum(amount - fee - refunded_amount), count(*) FROM payment GROUP BY 1, 2")
    conn.exec_driver_sql("DELETE FROM payment_total")
    conn.exec_driver_sql("INSERT INTO payment_total(currency, amount, fee, refunded, count) SELECT currency, "
                         "sum(amount), sum(fee), sum(refunded_amount), count(*) FROM payment GROUP BY currency")


def _bulk(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
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
