"""A synthetic revenue store for timing `/finance mrr` at scale: N customers with ~11 MRR movements each.

Usage: python -m bench.revenue_data DATABASE_URL --customers 1000000. The store must be empty and migrated. Rows are
generated inside the database (18 months, four currencies, every kind), with the movement triggers and indexes off,
then the trigger-kept totals are recounted, as bulk loads do. Timing only: customers have no seat history or
payments (`customers-bot demo-data` makes the realistic store).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from sqlalchemy import text

from storage.db import make_engine
from storage.movements import recount_revenue
from storage.types import utcnow

STEPS = 11
_VALUE = "1000 * (2 + ((c.id * 7919 + k.n * 104729) % 9))"  # MRR after step n (0 = churned when it hits 0 below)
_SQLITE = f"""
WITH RECURSIVE ids(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM ids WHERE id < :n),
k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < {STEPS - 1}),
path AS (
    SELECT c.id AS cid, k.n, julianday(:start) + (c.id % 400) + k.n * 12.5 + (c.id * 13 % 1000) / 1000.0 AS at,
           CASE WHEN c.id % 20 < 14 THEN 'USD' WHEN c.id % 20 < 17 THEN 'EUR' WHEN c.id % 20 < 19 THEN 'GBP'
                ELSE 'JPY' END AS currency,
           CASE WHEN c.id % 6 = 0 AND k.n = 6 THEN 0 WHEN c.id % 5 = 0 AND k.n = {STEPS - 1} THEN 0
                ELSE {_VALUE} END AS mrr
    FROM ids c JOIN k
),
moves AS (SELECT cid, n, at, currency, coalesce(lag(mrr) OVER (PARTITION BY cid ORDER BY n), 0) AS old, mrr
          FROM path)
INSERT INTO mrr_movement(customer_id, at, currency, old_mrr, new_mrr, delta, kind)
SELECT cid, strftime('%Y-%m-%d %H:%M:%f', at) || '000', currency, old, mrr, mrr - old,
       CASE WHEN n = 0 THEN 'new' WHEN mrr = 0 THEN 'churn' WHEN old = 0 THEN 'reactivation'
            WHEN mrr > old THEN 'expansion' ELSE 'contraction' END
FROM moves WHERE mrr <> old
"""
_POSTGRES = f"""
WITH path AS (
    SELECT c.id AS cid, k.n,
           CAST(:start AS timestamptz) + make_interval(days => c.id % 400) + k.n * interval '12.5 days'
               + (c.id * 13 % 1000) * interval '86.4 seconds' AS at,
           CASE WHEN c.id % 20 < 14 THEN 'USD' WHEN c.id % 20 < 17 THEN 'EUR' WHEN c.id % 20 < 19 THEN 'GBP'
                ELSE 'JPY' END AS currency,
           CASE WHEN c.id % 6 = 0 AND k.n = 6 THEN 0 WHEN c.id % 5 = 0 AND k.n = {STEPS - 1} THEN 0
                ELSE {_VALUE.replace('c.id', 'c.id::bigint')} END AS mrr
    FROM generate_series(1, :n) AS c(id) CROSS JOIN generate_series(0, {STEPS - 1}) AS k(n)
),
moves AS (SELECT cid, n, at, currency, coalesce(lag(mrr) OVER (PARTITION BY cid ORDER BY n), 0) AS old, mrr
          FROM path)
INSERT INTO mrr_movement(customer_id, at, currency, old_mrr, new_mrr, delta, kind)
SELECT cid, at, currency, old, mrr, mrr - old,
       CASE WHEN n = 0 THEN 'new' WHEN mrr = 0 THEN 'churn' WHEN old = 0 THEN 'reactivation'
            WHEN mrr > old THEN 'expansion' ELSE 'contraction' END
FROM moves WHERE mrr <> old
"""
_CUSTOMERS = {
    "sqlite": """WITH RECURSIVE ids(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM ids WHERE id < :n)
        INSERT INTO customer(id, organization, email, email_key, seats, status, created_at, updated_at)
        SELECT id, 'Org ' || id, 'o' || id || '@bench.example', 'o' || id || '@bench.example', 1, 'active',
               :start, :start FROM ids""",
    "postgresql": """INSERT INTO customer(id, organization, email, email_key, seats, status, created_at, updated_at)
        SELECT id, 'Org ' || id, 'o' || id || '@bench.example', 'o' || id || '@bench.example', 1, 'active',
               CAST(:start AS timestamptz), CAST(:start AS timestamptz) FROM generate_series(1, :n) AS ids(id)""",
}
_FINAL = """UPDATE customer SET mrr = m.new_mrr, currency = m.currency FROM (
    SELECT customer_id, new_mrr, currency, row_number() OVER (PARTITION BY customer_id ORDER BY at DESC) AS r
    FROM mrr_movement) AS m WHERE m.customer_id = customer.id AND m.r = 1"""
_INDEXES = ("ix_mrr_movement_at", "ix_mrr_movement_customer", "ix_mrr_movement_rank")
_INDEX_SQL = {"ix_mrr_movement_at": "(at)", "ix_mrr_movement_customer": "(customer_id, at)",
              "ix_mrr_movement_rank": "(currency, kind, abs(delta), at)"}


def main() -> None:
    """Fill an empty store, timing each phase."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    engine = make_engine(args.url)
    sqlite = engine.dialect.name == "sqlite"
    start = utcnow() - timedelta(days=540)
    stamp = start.replace(tzinfo=None).isoformat(sep=" ") if sqlite else start.isoformat()
    began = time.perf_counter()
    with engine.begin() as conn:
        triggers = []
        if sqlite:
            triggers = list(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                                 "AND tbl_name IN ('customer', 'mrr_movement')"))
            for name, _sql in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            for table in ("customer", "mrr_movement"):
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for name in _INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.execute(text(_CUSTOMERS[engine.dialect.name]), {"n": args.customers, "start": stamp})
        conn.execute(text(_SQLITE if sqlite else _POSTGRES), {"n": args.customers, "start": stamp})
        print(f"rows {time.perf_counter() - began:.0f} s")
        conn.exec_driver_sql(_FINAL)
        for name in _INDEXES:
            conn.exec_driver_sql(f"CREATE INDEX {name} ON mrr_movement {_INDEX_SQL[name]}")
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)
        if not sqlite:
            for table in ("customer", "mrr_movement"):
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('customer', 'id'), "
                                 "(SELECT max(id) FROM customer))")
        recount_revenue(conn)
        conn.exec_driver_sql("ANALYZE")
    print(f"done {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
