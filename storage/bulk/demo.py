"""Deterministic, realistic demo data, bulk-loaded fast enough for a million customers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, func, select, text

from storage.bulk.demo_revenue import MOVEMENT_COLUMNS, demo_chunk
from storage.bulk.demo_sql import insert_payments, payout_rows
from storage.bulk.load import bulk_insert, bulk_mode, collector_paused, db_ts, vacuum_loaded_tables
from storage.db import session_scope
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
CHUNK = 20_000  # customers whose seat and MRR histories are drawn and loaded together (memory stays flat)
CUSTOMER_COLUMNS = ("id", "external_id", "organization", "email", "email_key", "seats", "status", "created_at",
                    "canceled_at", "updated_at")


@dataclass(frozen=True)
class DemoSummary:
    """What the generator wrote."""

    customers: int
    payments: int
    payouts: int
    seat_changes: int
    movements: int = 0


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
    with collector_paused(), session_scope(engine, write=True) as session:
        conn = session.connection()
        base = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one())

        def load() -> None:
            counts["seat_changes"] = counts["movements"] = 0
            made = _customers(rng, now, customers, base, sqlite)
            for chunk in iter(lambda: list(islice(made, CHUNK)), []):
                rows, seats, moves = demo_chunk(seed, chunk, now, lambda at: db_ts(at, sqlite))
                bulk_insert(conn, "customer", (*CUSTOMER_COLUMNS, "mrr", "currency"), rows)
                bulk_insert(conn, "seat_change", ("customer_id", "old_seats", "new_seats", "at"), seats)
                bulk_insert(conn, "mrr_movement", MOVEMENT_COLUMNS, moves)
                counts["seat_changes"] += len(seats)
                counts["movements"] += len(moves)
            counts["payments"] = insert_payments(conn, now=now, base=base)

        bulk_mode(conn, load)
        payouts = payout_rows(conn, now=now)  # from the daily totals bulk_mode has just rebuilt
        bulk_insert(conn, "payout", ("external_id", "amount", "currency", "status", "created_at", "arrival_date"),
                    [(*row[:4], db_ts(row[4], sqlite), db_ts(row[5], sqlite)) for row in payouts])
        counts["payouts"] = len(payouts)
    vacuum_loaded_tables(engine)
    return DemoSummary(customers=customers, **counts)


def _customers(
    rng: random.Random, now: datetime, n: int, base: int, sqlite: bool
) -> Iterator[tuple[tuple[Any, ...], datetime, datetime | None]]:
    """Customer rows (with their signup and cancel instants): signups over 18 months (every recent day too), a
    realistic status and seat mix."""
    rand, combos = rng.random, len(ORG_A) * len(ORG_B)
    updated = db_ts(now, sqlite)
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
        yield ((cid, f"cus_demo_{cid:07d}", f"{a} {b} {c}".strip(), email, email, seats, status,
                db_ts(created, sqlite), db_ts(canceled, sqlite), updated), created, canceled)
