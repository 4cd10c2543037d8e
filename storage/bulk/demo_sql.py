"""Demo payments and payouts generated inside the database (millions of rows without a Python loop)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

# Payments: monthly on the signup day for the 8 latest months of each paying customer's tenure, 10% platform fee, ~2%
# refunded (half in full, some after the refund window). Pseudo-random but deterministic: hashes of ids.
_SQLITE_PAYMENTS = """
WITH RECURSIVE months(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM months WHERE n < 7),
paying AS (
    SELECT id, max(seats, 1) AS units, julianday(created_at) AS born,
           julianday(coalesce(canceled_at, :now)) AS ended,
           CASE WHEN (id * 2654435761) % 100 < 15 THEN 'EUR' ELSE 'USD' END AS currency
    FROM customer WHERE status NOT IN ('trialing', 'incomplete') AND id > :base
),
drawn AS (
    SELECT p.id, m.n, p.currency, p.units * CASE p.currency WHEN 'EUR' THEN 1900 ELSE 2000 END AS amount,
           p.born + 30 * (CAST((p.ended - p.born) / 30 AS INT) - m.n) + ((p.id * 7919 + m.n) % 100) / 1000.0 AS paid,
           (p.id * 31 + m.n * 17) % 1000 AS luck, p.born
    FROM paying p JOIN months m ON m.n <= min(CAST((p.ended - p.born) / 30 AS INT), 7)
)
INSERT INTO payment (external_id, customer_id, amount, currency, fee, created_at, refunded_amount, refunded_at)
SELECT 'py_demo_' || substr('000000000' || id, -9) || '_' || n, id, amount, currency, amount / 10,
       strftime('%Y-%m-%d %H:%M:%S', paid) || '.000000',
       CASE WHEN luck < 10 THEN amount WHEN luck < 20 THEN amount / 2 ELSE 0 END,
       CASE WHEN luck < 20 THEN strftime('%Y-%m-%d %H:%M:%S',
            min(paid + (CASE luck % 5 WHEN 0 THEN 1 WHEN 1 THEN 3 WHEN 2 THEN 7 WHEN 3 THEN 20 ELSE 40 END),
                julianday(:now))) || '.000000' END
FROM drawn WHERE paid >= born
"""

_POSTGRES_PAYMENTS = """
WITH paying AS (
    SELECT id, greatest(seats, 1) AS units, created_at AS born, coalesce(canceled_at, :now) AS ended,
           CASE WHEN (id::bigint * 2654435761) % 100 < 15 THEN 'EUR' ELSE 'USD' END AS currency
    FROM customer WHERE status NOT IN ('trialing', 'incomplete') AND id > :base
),
drawn AS (
    SELECT p.id, m.n, p.currency, p.units * CASE p.currency WHEN 'EUR' THEN 1900 ELSE 2000 END AS amount,
           p.born + make_interval(days => 30 * (floor(extract(epoch FROM p.ended - p.born) / 86400 / 30)::int - m.n))
               + ((p.id::bigint * 7919 + m.n) % 100) * interval '86.4 seconds' AS paid,
           (p.id::bigint * 31 + m.n * 17) % 1000 AS luck, p.born
    FROM paying p
    JOIN generate_series(0, 7) AS m(n)
      ON m.n <= least(floor(extract(epoch FROM p.ended - p.born) / 86400 / 30)::int, 7)
)
INSERT INTO payment (external_id, customer_id, amount, currency, fee, created_at, refunded_amount, refunded_at)
SELECT 'py_demo_' || lpad(id::text, 9, '0') || '_' || n, id, amount, currency, amount / 10, paid,
       CASE WHEN luck < 10 THEN amount WHEN luck < 20 THEN amount / 2 ELSE 0 END,
       CASE WHEN luck < 20 THEN least(paid + make_interval(days => (ARRAY[1, 3, 7, 20, 40])[luck % 5 + 1]),
                                      CAST(:now AS timestamptz)) END
FROM drawn WHERE paid >= born
"""


def insert_payments(conn: Connection, *, now: datetime, base: int) -> int:
    """Generate the payments of every customer with id > base; returns how many were written."""
    sqlite = conn.dialect.name == "sqlite"
    stamp: Any = now.replace(tzinfo=None).isoformat(sep=" ") if sqlite else now
    conn.execute(text(_SQLITE_PAYMENTS if sqlite else _POSTGRES_PAYMENTS), {"now": stamp, "base": base})
    written = conn.execute(text("SELECT count(*) FROM payment WHERE customer_id > :base"), {"base": base})
    return int(written.scalar_one())


def payout_rows(conn: Connection, *, now: datetime, window_days: int = 14) -> list[tuple[Any, ...]]:
    """Weekly payouts of what cleared (from the daily totals): paid, the last two pending and in transit, one failed."""
    weeks: dict[tuple[str, int], int] = {}
    for currency, day, net in conn.execute(text("SELECT currency, day, net FROM payment_daily")):
        # A day's payments have all cleared once its last instant has: count the day in the week that holds that.
        cleared = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1 + window_days)
        week = (cleared - now) // timedelta(weeks=1)
        weeks[currency, week] = weeks.get((currency, week), 0) + int(net)
    rows = []
    for n, ((currency, week), net) in enumerate(sorted(weeks.items()), start=1):
        if week >= 0 or net <= 0:
            continue
        at = now + timedelta(weeks=week + 1)
        status = "pending" if week == -1 else "in_transit" if week == -2 else "failed" if week == -9 else "paid"
        rows.append((f"po_demo_{n:06d}", net * 95 // 100, currency, status, at, at + timedelta(days=2)))
    return rows
