"""Turn benchmark JSON into the markdown tables of bench/README.md: `python -m bench.tables bench/results/*.json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TARGETS = [("search", "p95 ≤ 50 ms"), ("lists", "p95 ≤ 30 ms"), ("new_7d", "p95 ≤ 30 ms"),
           ("churned_30d", "p95 ≤ 30 ms"), ("digest_content", "≤ 150 ms"), ("balance", "≤ 100 ms")]


def table(run: dict[str, Any]) -> str:
    """One engine and size as a markdown table."""
    lines = [f"### {run['engine']}, {run['customers']:,} customers, {run['data']['payments']:,} payments", "",
             "| figure | median | p95 | baseline | target |", "|---|---|---|---|---|"]
    for name, target in TARGETS:
        bot, base = run["queries"][name]["bot"], run["queries"][name].get("baseline_like")
        beside = f"bare LIKE {base['median_ms']} ms median, {base['p95_ms']} ms p95" if base else ""
        lines.append(f"| {name} | {bot['median_ms']} ms | {bot['p95_ms']} ms | {beside} | {target} |")
    if "export" in run:
        e = run["export"]
        if "stdlib_loop" in e:
            cli = e.get("sqlite3_cli", {}).get("rows_per_s")
            beside = f"stdlib loop {e['stdlib_loop']['rows_per_s']:,} rows/s (ratio {e['ratio_vs_stdlib']}x)" + (
                f"; `sqlite3 -csv` {cli:,} rows/s" if cli else "")
        else:
            beside = f"COPY TO STDOUT {e['pg_copy']['rows_per_s']:,} rows/s (ratio {e['ratio_vs_copy']}x)"
        lines.append(f"| export, every customer | {e['bot']['rows_per_s']:,} rows/s | peak RSS {e['bot']['peak_rss_mb']} MB"
                     f" | {beside} | ≥ 0.7x the stdlib loop, ≤ 200 MB |")
    if "import" in run:
        lines.append(f"| import of that export into an empty store | {run['import']['rows_per_s']:,} rows/s | | | "
                     "≥ 50,000 rows/s |")
    http = run.get("http", {})
    if "search_e2e" in http:
        s = http["search_e2e"]
        lines.append(f"| one signed search at a time | ack {s['ack_median_ms']} ms | answer at response_url "
                     f"{s['answer_median_ms']} ms median, {s['answer_p95_ms']} ms p95 | | < 3 s |")
    for key, label in (("serve_workers_1", "serve, 1 worker"), ("serve_workers_2", "serve --workers 2"),
                       ("bare_bolt", "bare Bolt, ack only")):
        if key in http:
            h = http[key]
            lines.append(f"| 50 clients: {label} | {h['rps']} req/s | p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, "
                         f"max {h['max_ms']} ms | {h['errors']} errors | ≥ 0.5x bare Bolt req/s, p99 < 500 ms |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print every run of every file."""
    for path in sys.argv[1:]:
        for run in json.loads(Path(path).read_text())["runs"]:
            print(table(run))


if __name__ == "__main__":
    main()
