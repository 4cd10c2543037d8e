"""Query latency: the handlers' storage calls beside bare-driver baselines, median and p95 in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bench import bare_sql
from bot.deps import Deps
from bot.settings import Settings
from handlers.blocks.nav import PageState
from handlers.customers import build_query, render_page
from storage.customers import list_customers
from storage.db import read_scope, run_read
from storage.digest_content import digest_content
from storage.finance import balance
from storage.paging import PageRequest

# Rare: one org or one person; common: a word in many names or domains; short: no trigram to index; none: no match.
SEARCH_TERMS = ["northwindanalytics7", "harbor", "labs", "inc", "priya.chen", "zz-no-match", "ai"]
LISTS = ["status:canceled seats:1", "seats:>10 sort:-seats", "status:active,trialing sort:name", "seats:0"]
WINDOWS = {"new_7d": ("new", "7d"), "churned_30d": ("churned", "30d")}


def fixed_now() -> datetime:
    """The instant the demo data was generated against (and every query asks about)."""
    return datetime(2026, 11, 24, 12, tzinfo=UTC)


def samples(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds of `repeat` runs, after one warm-up run."""
    fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(values: list[float]) -> dict[str, float]:
    """Median and p95 (nearest rank) of some milliseconds."""
    ordered = sorted(values)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(p95, 2), "n": len(ordered)}


def mix(per_item: dict[str, list[float]]) -> dict[str, Any]:
    """A fixed mix of queries: median and p95 over every sample pooled, plus the worst single query's p95."""
    pooled = summary([v for values in per_item.values() for v in values])
    worst = max(per_item, key=lambda k: summary(per_item[k])["p95_ms"])
    return {**pooled, "worst": worst, "worst_p95_ms": summary(per_item[worst])["p95_ms"]}


def bench_deps(engine: Engine, now: datetime) -> Deps:
    """What the Slack handlers get, with the clock fixed at the demo data's `now`."""
    return Deps(settings=Settings(database_url=str(engine.url), _env_file=None), engine=engine, clock=lambda: now)


def handler_query(deps: Deps, command: str, text: str) -> Callable[[], Any]:
    """The storage work of `/customers <command> <text>`: the handler's own query building, first page and total."""
    def page() -> Any:
        query, _title = build_query(deps, command, text)
        with read_scope(deps.engine) as session:
            return list_customers(session=session, query=query, page=PageRequest())
    return lambda: run_read(page)  # as handlers.background runs every answer


def compare(bot: dict[str, list[float]], base: dict[str, list[float]]) -> dict[str, Any]:
    """One figure: the bot's mix, the baseline's mix, the per-query detail and the ratio of medians."""
    out: dict[str, Any] = {"bot": mix(bot), "baseline": mix(base),
                           "per_query": {k: {"bot": summary(bot[k]), "baseline": summary(base[k])} for k in bot}}
    out["ratio"] = round(out["bot"]["median_ms"] / max(out["baseline"]["median_ms"], 0.001), 3)
    return out


def bench_queries(engine: Engine, *, now: datetime, repeat: int, refund_window_days: int = 14) -> dict[str, Any]:
    """Every query figure for one store: search, lists, windows, the digest's content and the balance."""
    deps = bench_deps(engine, now)
    bare = bare_sql.Bare(engine)
    base_repeat = max(5, repeat // 4)  # the bare LIKE scan takes seconds at 1M rows
    out: dict[str, Any] = {}
    try:
        bot = {t: samples(handler_query(deps, "search", t), repeat) for t in SEARCH_TERMS}
        base = {t: samples(bare_sql.customers_page(bare, build_query(deps, "search", t)[0]), base_repeat)
                for t in SEARCH_TERMS}
        out["search"] = compare(bot, base)
        def rendered_search(term: str) -> Callable[[], Any]:
            return lambda: run_read(lambda: render_page(deps, PageState(command="search", query=term), "UBENCH"))

        rendered = {t: samples(rendered_search(t), repeat) for t in SEARCH_TERMS}
        out["search_rendered"] = {"bot": mix(rendered)}
        bot = {q: samples(handler_query(deps, "list", q), repeat) for q in LISTS}
        base = {q: samples(bare_sql.customers_page(bare, build_query(deps, "list", q)[0]), repeat) for q in LISTS}
        out["lists"] = compare(bot, base)
        for name, (command, text) in WINDOWS.items():
            query = build_query(deps, command, text)[0]
            out[name] = compare({text: samples(handler_query(deps, command, text), repeat)},
                                {text: samples(bare_sql.customers_page(bare, query), repeat)})

        def digest() -> Any:
            with read_scope(engine) as session:
                return digest_content(session=session, until=now)

        def bal() -> Any:
            def read() -> Any:
                with read_scope(engine) as session:
                    return balance(session=session, now=now, refund_window_days=refund_window_days)
            return run_read(read)  # as handlers.background runs the /finance balance answer

        out["digest_content"] = compare({"day": samples(digest, repeat)},
                                        {"day": samples(bare_sql.digest(bare, until=now), base_repeat)})
        out["balance"] = compare(
            {"all": samples(bal, repeat)},
            {"all": samples(bare_sql.balance(bare, now=now, refund_window_days=refund_window_days), base_repeat)})
    finally:
        bare.close()
    return out
