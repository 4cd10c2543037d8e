"""Baselines: the same questions as plain SQL through the bare driver (stdlib sqlite3 or psycopg), no ORM, no tricks.

Each baseline asks what the bot asks, written the obvious way: `LIKE '%term%'` for search, `WHERE ... ORDER BY ...
LIMIT 10` plus a `count(*)` for lists and windows, one grouped scan of payments for the balance. The planner still
uses whatever indexes the schema has, so the ratio shows what the bot's own query shaping is worth.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from storage.query import Query

_ORDER = {"created": "created_at", "seats": "seats", "organization": "organization", "canceled": "canceled_at"}


class Bare:
    """One bare connection to a bench store, with `?` placeholders on either engine."""

    def __init__(self, engine: Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            self.conn: Any = sqlite3.connect(engine.url.database or "", check_same_thread=False)
        else:
            import psycopg

            url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
            self.conn = psycopg.connect(url, autocommit=True)

    def instant(self, value: datetime) -> Any:
        """A timestamp parameter as the store keeps it (SQLite: naive UTC text)."""
        if self.sqlite:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return value

    def rows(self, sql: str, params: list[Any]) -> list[Any]:
        """Run one statement and fetch everything."""
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        return list(self.conn.execute(sql, params).fetchall())

    def close(self) -> None:
        """Release the connection."""
        self.conn.close()


def customers_page(bare: Bare, query: Query) -> Callable[[], Any]:
    """A first page (10 rows) plus the total for a parsed query, as bare SQL."""
    where: list[str] = []
    params: list[Any] = []
    for term in query.terms:
        where.append("(lower(organization) LIKE ? OR email_key LIKE ?)")
        params += [f"%{term.lower()}%"] * 2
    if query.statuses:
        where.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        params += list(query.statuses)
    if query.seats_min is not None:
        where.append("seats >= ?")
        params.append(query.seats_min)
    if query.seats_max is not None:
        where.append("seats <= ?")
        params.append(query.seats_max)
    for column, window in (("created_at", query.created), ("canceled_at", query.canceled)):
        if window.since is not None:
            where.append(f"{column} >= ?")
            params.append(bare.instant(window.since))
        if window.until is not None:
            where.append(f"{column} < ?")
            params.append(bare.instant(window.until))
    if query.canceled:
        where.append("status = 'canceled'")
    if query.sort.key == "canceled":
        where.append("canceled_at IS NOT NULL")
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    direction = "DESC" if query.sort.descending else "ASC"
    page_sql = (f"SELECT * FROM customer {clause} ORDER BY {_ORDER[query.sort.key]} {direction}, id {direction} "
                "LIMIT 10")
    count_sql = f"SELECT count(*) FROM customer {clause}"

    def run() -> Any:
        return bare.rows(page_sql, params), bare.rows(count_sql, params)
    return run


def balance(bare: Bare, *, now: datetime, refund_window_days: int) -> Callable[[], Any]:
    """The balance as one grouped scan of payments, the payout sums, and the next clearing instant."""
    cutoff = now - timedelta(days=refund_window_days)
    n, c = bare.instant(now), bare.instant(cutoff)
    net = "(amount - fee - refunded_amount)"

    def run() -> Any:
        return (
            bare.rows(f"SELECT currency, sum({net}), sum(CASE WHEN created_at > ? THEN {net} ELSE 0 END) "
                      "FROM payment WHERE created_at <= ? GROUP BY currency", [c, n]),
            bare.rows("SELECT currency, status, sum(amount) FROM payout WHERE created_at <= ? "
                      "GROUP BY currency, status", [n]),
            bare.rows(f"SELECT currency, min(created_at) FROM payment WHERE created_at > ? AND created_at <= ? "
                      f"AND {net} > 0 GROUP BY currency", [c, n]),
        )
    return run


def digest(bare: Bare, *, until: datetime) -> Callable[[], Any]:
    """Every part of a day's digest as plain SQL: signups, churn, the week before, 0- and 1-seat orgs, seat growth."""
    since = until - timedelta(hours=24)
    day = [bare.instant(since), bare.instant(until)]
    week = [bare.instant(since - timedelta(days=7)), bare.instant(since)]
    cohort = [bare.instant(since - timedelta(days=7)), bare.instant(until - timedelta(days=7))]
    churn = "status = 'canceled' AND canceled_at >= ? AND canceled_at < ?"
    created = "created_at >= ? AND created_at < ?"
    live = f"{created} AND seats = ? AND status <> 'canceled'"
    statements = [
        (f"SELECT * FROM customer WHERE {created} ORDER BY created_at DESC, id DESC LIMIT 10", day),
        (f"SELECT count(*) FROM customer WHERE {created}", day),
        (f"SELECT count(*) FROM customer WHERE {created}", week),
        (f"SELECT * FROM customer WHERE {churn} ORDER BY canceled_at DESC, id DESC LIMIT 10", day),
        (f"SELECT count(*) FROM customer WHERE {churn}", day),
        (f"SELECT count(*) FROM customer WHERE {churn}", week),
        (f"SELECT * FROM customer WHERE {live} ORDER BY created_at DESC, id DESC LIMIT 10", [*day, 0]),
        (f"SELECT count(*) FROM customer WHERE {live}", [*day, 0]),
        (f"SELECT * FROM customer WHERE {live} ORDER BY created_at DESC, id DESC LIMIT 10", [*cohort, 1]),
        (f"SELECT count(*) FROM customer WHERE {live}", [*cohort, 1]),
        ("SELECT customer_id, sum(new_seats - old_seats) AS added FROM seat_change WHERE at >= ? AND at < ? "
         "GROUP BY customer_id HAVING sum(new_seats - old_seats) > 0 ORDER BY added DESC LIMIT 10", day),
        ("SELECT count(*) FROM (SELECT customer_id FROM seat_change WHERE at >= ? AND at < ? "
         "GROUP BY customer_id HAVING sum(new_seats - old_seats) > 0) AS grown", day),
        ("SELECT count(*), sum(seats) FROM customer WHERE status = 'active'", []),
    ]

    def run() -> Any:
        return [bare.rows(sql, params) for sql, params in statements]
    return run
