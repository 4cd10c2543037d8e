"""Query latency benchmarks: the bot's storage calls beside bare-driver baselines, median and p95."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from storage.customers import list_customers
from storage.digest_content import digest_content
from storage.finance import balance
from storage.paging import PageRequest
from storage.query import Sort, Window, parse_query

# Rare: one org name or one email; common: words in most names or domains; short: the LIKE fallback.
SEARCH_TERMS = ["northwindanalytics7", "harbor", "labs", "inc", "priya.chen", "zz-no-match", "ai"]
LISTS = ["status:canceled seats:1", "seats:>10 sort:-seats", "status:active,trialing sort:name", "seats:0"]


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median and p95 in milliseconds over `repeat` runs (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2)}


def mix(runs: list[dict[str, float]]) -> dict[str, float]:
    """Summarise several query kinds: the median of medians and the worst p95."""
    return {"median_ms": round(statistics.median(r["median_ms"] for r in runs), 2),
            "p95_ms": round(max(r["p95_ms"] for r in runs), 2)}


def bot_search(engine: Engine, term: str, now: datetime) -> Callable[[], Any]:
    """The search the Slack handler runs: parse, first page, total."""
    def run() -> Any:
        with Session(engine) as session:
            return list_customers(session=session, query=parse_query(term, now=now), page=PageRequest())
    return run


def bare_like(engine: Engine, term: str) -> Callable[[], Any]:
    """The same search as a bare LIKE scan with the stdlib driver or psycopg: first page plus count."""
    pattern = f"%{term.lower()}%"
    where = "WHERE lower(organization) LIKE ? OR email_key LIKE ?"
    if engine.dialect.name == "sqlite":
        conn = sqlite3.connect(engine.url.database or "", check_same_thread=False)

        def run_sqlite() -> Any:
            rows = conn.execute(f"SELECT * FROM customer {where} ORDER BY created_at DESC, id DESC LIMIT 10",
                                (pattern, pattern)).fetchall()
            return rows, conn.execute(f"SELECT count(*) FROM customer {where}", (pattern, pattern)).fetchone()
        return run_sqlite
    import psycopg

    pg = psycopg.connect(engine.url.render_as_string(hide_password=False).replace("+psycopg", ""), autocommit=True)
    pg_where = where.replace("?", "%s")

    def run_pg() -> Any:
        rows = pg.execute(f"SELECT * FROM customer {pg_where} ORDER BY created_at DESC, id DESC LIMIT 10",
                          (pattern, pattern)).fetchall()
        return rows, pg.execute(f"SELECT count(*) FROM customer {pg_where}", (pattern, pattern)).fetchone()
    return run_pg


def bench_queries(engine: Engine, *, now: datetime, repeat: int, refund_window_days: int = 14) -> dict[str, Any]:
    """Every query figure for one store."""
    out: dict[str, Any] = {}
    bot_runs = [timed(bot_search(engine, t, now), repeat) for t in SEARCH_TERMS]
    base_runs = [timed(bare_like(engine, t), max(3, repeat // 5)) for t in SEARCH_TERMS]
    out["search"] = {"bot": mix(bot_runs), "baseline_like": mix(base_runs),
                     "per_term": dict(zip(SEARCH_TERMS, bot_runs, strict=True))}
    list_runs = [timed(bot_search(engine, text, now), repeat) for text in LISTS]
    out["lists"] = {"bot": mix(list_runs), "per_query": dict(zip(LISTS, list_runs, strict=True))}

    def window(kind: str, days: int) -> Callable[[], Any]:
        def run() -> Any:
            w = Window(since=now - timedelta(days=days))
            q = parse_query("", now=now)
            q = q.with_window(created=w) if kind == "new" else q.with_window(canceled=w)
            if kind == "churned":
                q = q.__class__(**{**q.__dict__, "sort": Sort("canceled", True)})
            with Session(engine) as session:
                return list_customers(session=session, query=q, page=PageRequest())
        return run

    out["new_7d"] = {"bot": timed(window("new", 7), repeat)}
    out["churned_30d"] = {"bot": timed(window("churned", 30), repeat)}

    def digest() -> Any:
        with Session(engine) as session:
            return digest_content(session=session, until=now)

    def bal() -> Any:
        with Session(engine) as session:
            return balance(session=session, now=now, refund_window_days=refund_window_days)

    out["digest_content"] = {"bot": timed(digest, repeat)}
    out["balance"] = {"bot": timed(bal, repeat)}
    return out


def fixed_now() -> datetime:
    """The instant the demo data was generated against."""
    return datetime(2026, 11, 24, 12, tzinfo=UTC)
