"""Time `/finance trend` at a given store: every window up to 24 months, the store query and the whole answer.

Usage: python -m bench.revenue_trend DATABASE_URL [--repeat N]. Read-only; prints one line per window with the median
and worst milliseconds of the store query and of the answer (query, then both renderings: charts and the table).
"""

from __future__ import annotations

import argparse
import statistics
import time

from handlers.blocks.revenue_trend import pick_currency, revenue_trend_message, revenue_trend_plain
from storage.db import make_engine, read_scope
from storage.query import parse_window
from storage.revenue_trend import revenue_trend
from storage.types import utcnow

WINDOWS = ("7d", "30d", "90d", "26w", "12m", "18m", "24m")


def main() -> None:
    """Measure each window `repeat` times after one warm-up run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    engine = make_engine(args.url)
    now = utcnow()
    print(f"{'window':>6} {'buckets':>7} {'currencies':>10} {'query p50':>9} {'max':>7} {'answer p50':>10} {'max':>7}")
    for label in WINDOWS:
        window = parse_window(label, now=now)
        timings: list[tuple[float, float]] = []
        buckets = currencies = 0
        for _ in range(args.repeat + 1):
            start = time.perf_counter()
            with read_scope(engine) as session:
                trend = revenue_trend(session=session, since=window.since or now, until=now)
            queried = time.perf_counter()
            currency = pick_currency(trend) or "USD"
            title = f"MRR trend · {currency} · last {label}"
            revenue_trend_message(trend, currency, title=title, window=label)
            revenue_trend_plain(trend, currency, title=title, window=label)
            timings.append(((queried - start) * 1000, (time.perf_counter() - start) * 1000))
            buckets, currencies = len(trend.edges) - 1, len(trend.currencies)
        timings = timings[1:]
        q, a = [t[0] for t in timings], [t[1] for t in timings]
        print(f"{label:>6} {buckets:>7} {currencies:>10} {statistics.median(q):9.1f} {max(q):7.1f} "
              f"{statistics.median(a):10.1f} {max(a):7.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
