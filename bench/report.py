"""Turn benchmark results into rows with targets and PASS/MISS verdicts (shared by the console and markdown tables).

`python -m bench.report bench/results/*.json` prints the markdown tables of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# p95 targets in ms (issue 6: SQLite, 1M customers, this 2-core machine); checked at every size for the trend.
LATENCY_TARGETS = {"search": 50, "lists": 30, "new_7d": 30, "churned_30d": 30, "digest_content": 150,
                   "balance": 100}
EXPORT_RATIO, EXPORT_MB, IMPORT_RPS, PG_FACTOR = 0.7, 200, 30_000, 2
DEMO_S_PER_MILLION = 120  # issue 2: a million customers with their payments in at most 2 minutes (SQLite)
COLUMNS = ("figure", "median", "p95", "baseline (median / p95)", "ratio", "target", "verdict")
Row = tuple[str, str, str, str, str, str, str]


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 10 else f"{value:.2f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ratio(bot: float, base: float) -> str:
    """bot / baseline, read as how many times faster or slower than the baseline."""
    if not base or not bot:
        return ""
    ratio = bot / base
    return f"{ratio:.2f}x ({base / bot:.1f}x faster)" if ratio < 1 else f"{ratio:.2f}x ({ratio:.1f}x slower)"


def rows(run: dict[str, Any]) -> list[Row]:
    """Every figure of one engine and size, with its baseline, ratio, target and verdict."""
    out: list[Row] = []
    data = run.get("data", {})
    if not data.get("cached") and "seconds" in data and run["engine"] == "sqlite":
        limit = DEMO_S_PER_MILLION * run["customers"] / 1_000_000
        out.append((f"demo-data, {run['customers']:,} customers", f"{data['seconds']} s", "", "", "",
                    f"≤ {limit:g} s", _verdict(data["seconds"] <= limit)))
    queries = run.get("queries", {})
    for name, result in queries.items():
        bot, base = result["bot"], result.get("baseline")
        target = LATENCY_TARGETS.get(name)
        label = name + (f" (worst: {bot['worst']} {_ms(bot['worst_p95_ms'])})" if "worst" in bot and len(
            result.get("per_query", {})) > 1 else "")
        out.append((label, _ms(bot["median_ms"]), _ms(bot["p95_ms"]),
                    f"{_ms(base['median_ms'])} / {_ms(base['p95_ms'])}" if base else "",
                    _ratio(bot["median_ms"], base["median_ms"]) if base else "",
                    f"p95 ≤ {target} ms" if target else "", _verdict(bot["p95_ms"] <= target) if target else ""))
    if "export" in run:
        e, bot = run["export"], run["export"]["bot"]
        base = e.get("stdlib_loop") or e.get("pg_copy")
        name = "stdlib sqlite3+csv" if "stdlib_loop" in e else "COPY TO STDOUT"
        cli = f"; sqlite3 -csv {e['sqlite3_cli']['rows_per_s']:,}/s" if "sqlite3_cli" in e else ""
        ok = bot["peak_rss_mb"] <= EXPORT_MB and ("stdlib_loop" not in e or e["ratio"] >= EXPORT_RATIO)
        export_target = f"≥ {EXPORT_RATIO}x stdlib, ≤ {EXPORT_MB} MB" if "stdlib_loop" in e else f"≤ {EXPORT_MB} MB"
        out.append(("export rows/s, peak RSS", f"{bot['rows_per_s']:,}/s", f"{bot['peak_rss_mb']} MB",
                    f"{name} {base['rows_per_s']:,}/s, {base['peak_rss_mb']} MB{cli}", f"{e['ratio']:.2f}x",
                    export_target, _verdict(ok)))
    for key, label in (("import", "import into an empty store"), ("import_again", "import again (no changes)")):
        if key in run:
            i = run[key]
            out.append((f"{label}, {i['rows']:,} rows", f"{i['rows_per_s']:,} rows/s", f"{i['peak_rss_mb']} MB",
                        "", "", f"≥ {IMPORT_RPS:,} rows/s", _verdict(i["rows_per_s"] >= IMPORT_RPS)))
    return out


def engine_rows(runs: list[dict[str, Any]]) -> list[Row]:
    """PostgreSQL beside SQLite at each size both ran: within 2x on every figure (lower is better for latency)."""
    out: list[Row] = []
    by = {(r["engine"], r["customers"]): r for r in runs}
    for (engine, size), pg in sorted(by.items()):
        lite = by.get(("sqlite", size))
        if engine != "postgresql" or lite is None:
            continue
        for name in LATENCY_TARGETS:
            if name in pg.get("queries", {}) and name in lite.get("queries", {}):
                p, s = pg["queries"][name]["bot"]["p95_ms"], lite["queries"][name]["bot"]["p95_ms"]
                out.append((f"{size:,}: {name} p95", _ms(p), _ms(s), "", f"{p / s:.2f}x",
                            f"≤ {PG_FACTOR}x SQLite", _verdict(p <= PG_FACTOR * s)))
        for key, label, field in (("export", "export rows/s", "bot"), ("import", "import rows/s", None)):
            if key in pg and key in lite:
                p, s = ((pg[key][field] if field else pg[key])["rows_per_s"],
                        (lite[key][field] if field else lite[key])["rows_per_s"])
                out.append((f"{size:,}: {label}", f"{p:,}/s", f"{s:,}/s", "", f"{p / s:.2f}x",
                            f"≥ 1/{PG_FACTOR} SQLite", _verdict(p * PG_FACTOR >= s)))
    return out


def title(run: dict[str, Any]) -> str:
    """The heading of one engine and size."""
    return f"{run['engine']}, {run['customers']:,} customers, {run['data'].get('payments', 0):,} payments"


def markdown(header: tuple[str, ...], body: list[Row]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print every run of every file as markdown, then PostgreSQL against SQLite."""
    parser = argparse.ArgumentParser(description="Markdown tables from benchmark JSON files (python -m bench.run).")
    parser.add_argument("files", nargs="+", type=Path, help="results files, e.g. bench/results/*.json")
    runs = [run for path in parser.parse_args().files for run in json.loads(path.read_text())["runs"]]
    for run in runs:
        print(f"### {title(run)}\n\n{markdown(COLUMNS, rows(run))}")
    versus = engine_rows(runs)
    if versus:
        print("### PostgreSQL against SQLite\n\n" + markdown(
            ("figure", "PostgreSQL", "SQLite", "", "ratio", "target", "verdict"), versus))


if __name__ == "__main__":
    main()
