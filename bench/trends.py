"""Time `/customers trend` at a given store: every window up to 24 months, without and with filters.

Usage: python -m bench.trends DATABASE_URL [--repeat N]. Read-only; prints one line per (window, filters) with the
median and worst milliseconds of the store query and of the whole answer (query and rendering).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from handlers.blocks.charts import trend_message
from storage.db import make_engine, read_scope
from storage.query import parse_query, parse_window
from storage.trends import customer_trend
from storage.types import utcnow

WINDOWS = ("7d", "30d", "90d", "26w", "12m", "24m")
FILTERS = ("", "seats:>10", "status:active", "status:canceled seats:1..3")


def main() -> None:
    """Measure each window and filter `repeat` times after one warm-up run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    engine = make_engine(args.url)
    now = utcnow()
    print(f"{'window':>6} {'filters':<28} {'query p50':>9} {'max':>7} {'answer p50':>10} {'max':>7}")
    for label in WINDOWS:
        for filters in FILTERS:
            window = parse_window(label, now=now)
            query = parse_query(filters, now=now)
            timings: list[tuple[float, float]] = []
            for _ in range(args.repeat + 1):
                start = time.perf_counter()
                with read_scope(engine) as session:
                    trend = customer_trend(session=session, query=query, since=window.since or now - timedelta(1),
                                           until=now)
                queried = time.perf_counter()
                trend_message(trend, title=f"Customers trend · last {label}", filters=filters, share_value=label)
                timings.append(((queried - start) * 1000, (time.perf_counter() - start) * 1000))
            timings = timings[1:]
            q, a = [t[0] for t in timings], [t[1] for t in timings]
            print(f"{label:>6} {filters or '(none)':<28} {statistics.median(q):9.1f} {max(q):7.1f} "
                  f"{statistics.median(a):10.1f} {max(a):7.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
