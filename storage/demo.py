"""Deterministic, realistic demo data, bulk-loaded fast enough for a million customers."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from storage.db import session_scope
from storage.models import Customer

FIRST = [
    "Avery",
    "Blake",
    "Carmen",
    "Dana",
    "Elena",
    "Farah",
    "Gabriel",
    "Hana",
    "Ivan",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Chloe",
    "Diego",
]
LAST = [
    "Adams",
    "Becker",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmer",
]
ORG_A = [
    "Northwind",
    "Blue",
    "Harbor",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Aperture",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Massive",
    "Dynamic",
    "Pied",
    "Piper",
    "Bluth",
    "Dunder",
    "Sterling",
    "Cooper",
    "Prestige",
    "Monarch",
    "Zenith",
    "Aurora",
    "Summit",
    "Redwood",
    "Silverline",
    "Ironclad",
    "Evergreen",
    "Brightpath",
    "Nimbus",
    "Quantum",
    "Polaris",
    "Horizon",
    "Copperleaf",
    "Riverstone",
    "Lakeside",
    "Falcon",
    "Orchid",
    "Granite",
    "Meridian",
    "Cobalt",
    "Atlas",
    "Beacon",
]
ORG_B = [
    "Analytics",
    "Labs",
    "Systems",
    "Robotics",
    "Health",
    "Logistics",
    "Capital",
    "Studio",
    "AI",
    "Software",
    "Foods",
    "Energy",
    "Media",
    "Insurance",
    "Ventures",
    "Networks",
    "Bio",
    "Legal",
    "Retail",
    "Security",
    "Cloud",
    "Payments",
    "Travel",
    "Learning",
    "Freight",
]
ORG_C = ("Inc", "LLC", "GmbH", "Ltd", "SA", "BV", "Co", "AG", "", "")
STATUSES = (
    ("active", 62),
    ("canceled", 18),
    ("trialing", 8),
    ("past_due", 5),
    ("incomplete", 3),
    ("unpaid", 2),
    ("paused", 2),
)
PRICE_PER_SEAT = {"USD": 2_000, "EUR": 1_900}
DAYS = 540


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
    gen = _Generator(rng, now, engine.dialect.name)
    with session_scope(engine, write=True) as session:
        conn = session.connection()
        base = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one())
        _without_triggers(conn, lambda: _load(conn, gen, customers, base))
    return DemoSummary(customers=customers, payments=gen.payments, payouts=gen.payouts, seat_changes=gen.seat_changes)


def _load(conn: Connection, gen: _Generator, customers: int, base: int) -> None:
    """Stream every table in, in batches."""
    _bulk(
        conn,
        "customer",
        (
            "id",
            "external_id",
            "organization",
            "email",
            "email_key",
            "seats",
            "status",
            "created_at",
            "canceled_at",
            "updated_at",
        ),
        gen.customers(customers, base),
    )
    _bulk(conn, "seat_change", ("customer_id", "old_seats", "new_seats", "at"), gen.history())
    _bulk(
        conn,
        "payment",
        ("external_id", "customer_id", "amount", "currency", "fee", "created_at", "refunded_amount", "refunded_at"),
        gen.payment_rows(),
    )
    _bulk(
        conn, "payout", ("external_id", "amount", "currency", "status", "created_at", "arrival_date"), gen.payout_rows()
    )


def _without_triggers(conn: Connection, load: Any) -> None:
    """Bulk-load with the per-row triggers off, then rebuild the derived tables once (same result, far faster)."""
    if conn.dialect.name == "sqlite":
        triggers = list(
            conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('customer', 'payment')"
            )
        )
        for name, _sql in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        load()
        conn.exec_driver_sql("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')")
        _recount(conn)
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
        return
    conn.exec_driver_sql("ALTER TABLE customer DISABLE TRIGGER status_count_sync")
    conn.exec_driver_sql("ALTER TABLE payment DISABLE TRIGGER payment_total_sync")
    load()
    _recount(conn)
    conn.exec_driver_sql("ALTER TABLE customer ENABLE TRIGGER status_count_sync")
    conn.exec_driver_sql("ALTER TABLE payment ENABLE TRIGGER payment_total_sync")
    conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('customer', 'id'), (SELECT max(id) FROM customer))")


def _recount(conn: Connection) -> None:
    """Recompute the trigger-kept totals from the rows."""
    conn.exec_driver_sql("DELETE FROM status_count")
    conn.exec_driver_sql(
        "INSERT INTO status_count(status, customers, seats) "
        "SELECT status, count(*), sum(seats) FROM customer GROUP BY status"
    )
    conn.exec_driver_sql("DELETE FROM payment_total")
    conn.exec_driver_sql(
        "INSERT INTO payment_total(currency, amount, fee, refunded, count) SELECT currency, "
        "sum(amount), sum(fee), sum(refunded_amount), count(*) FROM payment GROUP BY currency"
    )


def _bulk(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """The fastest load each driver offers: executemany on SQLite, COPY on PostgreSQL."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor = raw.cursor()
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)
                batch.clear()
        if batch:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)
        return
    cursor = raw.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # psycopg 3
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


class _Generator:
    """Draws the rows; keeps just enough state to make payments and payouts consistent with customers."""

    def __init__(self, rng: random.Random, now: datetime, dialect: str) -> None:
        self.rng, self.now, self.sqlite = rng, now.astimezone(UTC), dialect == "sqlite"
        self.kept: list[tuple[int, int, str, str, datetime, datetime | None]] = []
        self.payments = self.payouts = self.seat_changes = 0
        self.weekly: dict[tuple[str, int], int] = {}

    def ts(self, value: datetime | None) -> Any:
        """SQLite stores SQLAlchemy's naive-UTC text form; PostgreSQL takes aware datetimes."""
        if value is None or not self.sqlite:
            return value
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def customers(self, n: int, base: int) -> Iterator[tuple[Any, ...]]:
        """Customer rows with a realistic status and seat mix, recent days always included."""
        rng, now = self.rng, self.now
        statuses = [s for s, w in STATUSES for _ in range(w)]
        combos = len(ORG_A) * len(ORG_B)  # each org name + block number is one domain, so emails are unique
        for i in range(n):
            cid = base + i + 1
            a, b, c = ORG_A[i % len(ORG_A)], ORG_B[(i // len(ORG_A)) % len(ORG_B)], ORG_C[(i * 7) % len(ORG_C)]
            org = " ".join(p for p in (a, b, c) if p)
            domain = f"{a.lower()}{b.lower()}{i // combos or ''}.{'de' if c in ('GmbH', 'AG') else 'com'}"
            email = f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}@{domain}"
            age = rng.random() * 7 if i % 30 == 0 else DAYS * (1 - rng.random() ** 0.7)
            created = now - timedelta(days=age, seconds=rng.randrange(86_400))
            status = rng.choice(statuses)
            if age > 30 and status in ("trialing", "incomplete"):
                status = "active"
            roll = rng.random()
            seats = (
                0
                if roll < 0.08
                else 1
                if roll < 0.23
                else rng.randint(2, 20)
                if roll < 0.93
                else rng.randint(21, 100)
                if roll < 0.99
                else rng.randint(100, 2000)
            )
            canceled = None
            if status == "canceled":
                canceled = created + (now - created) * rng.random() ** 0.5
            currency = "EUR" if rng.random() < 0.15 else "USD"
            if status not in ("trialing", "incomplete"):
                self.kept.append((cid, max(seats, 1), currency, status, created, canceled))
            yield (
                cid,
                f"cus_demo_{cid:07d}",
                org,
                email,
                email.lower(),
                seats,
                status,
                self.ts(created),
                self.ts(canceled),
                self.ts(now),
            )

    def history(self) -> Iterator[tuple[Any, ...]]:
        """Seat growth for about one org in eight, some of it in the last day for the digest's signals."""
        for cid, seats, _cur, status, created, _canceled in self.kept:
            if seats < 2 or status == "canceled" or self.rng.random() > 0.125:
                continue
            old = max(1, seats - self.rng.randint(1, max(1, seats // 2)))
            span = (self.now - created).total_seconds()
            at = self.now - timedelta(seconds=span * self.rng.random() ** 3)
            self.seat_changes += 1
            yield (cid, old, seats, self.ts(at))

    def payment_rows(self) -> Iterator[tuple[Any, ...]]:
        """Monthly payments (up to 8 most recent months of tenure) with a 10% fee and a few refunds."""
        rng = self.rng
        for cid, seats, currency, _status, created, canceled in self.kept:
            end = canceled or self.now
            months = min(int((end - created).days // 30) + 1, 8)
            for m in range(months):
                at = end - timedelta(days=30 * m + rng.random() * 2, seconds=rng.randrange(3600))
                if at < created:
                    break
                amount = seats * PRICE_PER_SEAT[currency]
                fee = amount // 10
                refunded, refunded_at = 0, None
                if rng.random() < 0.02:
                    refunded = amount if rng.random() < 0.5 else amount // 2
                    refunded_at = min(at + timedelta(days=rng.choice((1, 3, 7, 20, 40))), self.now)
                self.payments += 1
                week = int((at + timedelta(days=14) - self.now).total_seconds() // (7 * 86_400))
                self.weekly[(currency, week)] = self.weekly.get((currency, week), 0) + amount - fee - refunded
                yield (
                    f"py_demo_{self.payments:08d}",
                    cid,
                    amount,
                    currency,
                    fee,
                    self.ts(at),
                    refunded,
                    self.ts(refunded_at),
                )

    def payout_rows(self) -> Iterator[tuple[Any, ...]]:
        """Weekly payouts of what cleared: paid, the last two pending / in transit, one failed."""
        for (currency, week), net in sorted(self.weekly.items()):
            if week >= 0 or net <= 0:
                continue
            at = self.now + timedelta(weeks=week + 1)
            status = "pending" if week == -1 else "in_transit" if week == -2 else "failed" if week == -9 else "paid"
            self.payouts += 1
            yield (
                f"po_demo_{self.payouts:06d}",
                net * 95 // 100,
                currency,
                status,
                self.ts(at),
                self.ts(at + timedelta(days=2)),
            )
