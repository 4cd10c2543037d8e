"""Time `/finance mrr` at a given store: the figures for windows up to 365 days, and the whole answer.

Usage: python -m bench.revenue DATABASE_URL [--repeat N]. Read-only; prints one line per window with the median and
worst milliseconds of the figures alone (storage.revenue.revenue), and of the whole answer (figures, the 5 largest
expansions and churns per currency, rendering), measured after one warm-up run, beside the store's size.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pydantic import SecretStr
from sqlalchemy import text

from bot.deps import Deps
from bot.settings import Settings
from handlers.revenue import render_mrr
from storage.db import make_engine, read_scope
from storage.query import parse_window
from storage.revenue import largest_movements, revenue
from storage.types import utcnow

WINDOWS = ("1d", "7d", "30d", "90d", "180d", "365d", "2025-06-01..2025-09-30")


def main() -> None:
    """Measure each window `repeat` times after one warm-up run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--answers", default=",".join(WINDOWS), help="windows whose whole answer is timed too")
    parser.add_argument("--compare-tops", action="store_true",
                        help="time the largest movements alone: the old walk (5,000, then sort) against the new")
    args = parser.parse_args()
    if args.compare_tops:
        compare_tops(args.url, repeat=args.repeat)
        return
    answered = set(args.answers.split(","))
    engine = make_engine(args.url)
    now = utcnow()
    deps = Deps(settings=Settings(database_url=args.url, finance_user_ids=frozenset({"UFIN"}),
                                  slack_signing_secret=SecretStr("bench")), engine=engine, clock=lambda: now)
    with engine.connect() as conn:
        sizes = [int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                 for t in ("customer", "mrr_movement", "mrr_hour")]
    print(f"{engine.dialect.name}: {sizes[0]:,} customers, {sizes[1]:,} movements, {sizes[2]:,} hourly rows")
    print(f"{'window':>22} {'figures p50':>11} {'max':>7} {'answer p50':>10} {'max':>7}")
    for label in WINDOWS:
        window = parse_window(label, now=now)
        figures: list[float] = []
        answers: list[float] = []
        for _ in range(args.repeat + 1):
            start = time.perf_counter()
            with read_scope(engine) as session:
                revenue(session=session, since=window.since or now, until=window.until or now)
            middle = time.perf_counter()
            if label in answered:
                render_mrr(deps, label, "UFIN")
                answers.append((time.perf_counter() - middle) * 1000)
            figures.append((middle - start) * 1000)
        figures, answers = figures[1:], answers[1:] or [float("nan")] * 2
        print(f"{label:>22} {statistics.median(figures):>11.1f} {max(figures):>7.1f} "
              f"{statistics.median(answers):>10.1f} {max(answers):>7.1f}")


def compare_tops(url: str, *, repeat: int) -> None:
    """The 5 largest expansions and churns of every currency, old path and new interleaved, per window (ms)."""
    engine = make_engine(url)
    now = utcnow()
    for label in ("30d", "365d", "2025-06-01..2025-09-30"):
        window = parse_window(label, now=now)
        since, until = window.since or now, window.until or now
        runs: dict[str, list[float]] = {"old": [], "new": []}
        for attempt in range(repeat + 1):
            for name, options in (("old", {"walk_max": 5000, "size_steps": 0}), ("new", {})):
                start = time.perf_counter()
                with read_scope(engine) as session:
                    for f in revenue(session=session, since=since, until=until):
                        for kind in ("expansion", "churn"):
                            largest_movements(session=session, currency=f.currency, kind=kind, since=since,
                                              until=until, counted=f.counted(kind), **options)
                if attempt:  # the first round warms the cache
                    runs[name].append((time.perf_counter() - start) * 1000)
        old, new = runs["old"], runs["new"]
        print(f"{label:>22} old p50 {statistics.median(old):9.1f} max {max(old):9.1f} | "
              f"new p50 {statistics.median(new):7.1f} max {max(new):7.1f}")


if __name__ == "__main__":
    main()
