"""Run the benchmark suite: `python -m bench.run --sizes 100000,1000000 --engines sqlite,postgresql`.

Prints a table and writes JSON; every figure is a median and p95 over repeated runs, beside its baseline.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.data import bench_export, bench_import
from bench.load import bench_http
from bench.queries import bench_queries, fixed_now
from storage.db import make_engine, upgrade
from storage.demo import fill_demo_data, has_customers

OUT = Path(__file__).parent / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {"search": 50, "lists": 30, "new_7d": 30, "churned_30d": 30, "digest_content": 150, "balance": 100}


def store_url(engine_name: str, size: int, *, fresh: bool = False) -> str:
    """A demo store of `size` customers on an engine, generated once and cached."""
    suffix = "-empty" if fresh else ""
    if engine_name == "sqlite":
        path = OUT / f"sqlite-{size}{suffix}.sqlite3"
        if fresh:
            for extra in ("", "-wal", "-shm"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"bench_{size}{suffix.replace('-', '_')}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if fresh and exists:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        if fresh or not exists:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def prepare(url: str, size: int) -> dict[str, Any]:
    """Migrate and fill the store with demo data unless it already holds it; returns the generation time."""
    engine = make_engine(url)
    upgrade(engine)
    info: dict[str, Any] = {"cached": True}
    if not has_customers(engine=engine):
        start = time.perf_counter()
        summary = fill_demo_data(engine=engine, customers=size, seed=1, now=fixed_now())
        info = {"cached": False, "seconds": round(time.perf_counter() - start, 1), "payments": summary.payments}
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
    with engine.connect() as conn:
        info["payments"] = conn.execute(text("SELECT count(*) FROM payment")).scalar_one()
    engine.dispose()
    return info


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()  # noqa: S602
    return {"cpu": sh("lscpu | grep 'Model name' | cut -d: -f2").strip(), "cores": sh("nproc"),
            "memory": sh("free -h | awk '/Mem/ {print $2}'"), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "postgresql": sh("psql --version")}


def main() -> None:
    """Parse arguments, run every benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--skip", default="", help="comma-separated: queries,export,import,http")
    parser.add_argument("--http-seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and short runs (CI)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "latest.json"))
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.repeat, args.http_seconds, args.clients = "2000", 3, 2.0, 5
    skip = set(filter(None, args.skip.split(",")))
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "runs": []}
    for engine_name in args.engines.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            url = store_url(engine_name, size)
            run: dict[str, Any] = {"engine": engine_name, "customers": size, "data": prepare(url, size)}
            if "queries" not in skip:
                run["queries"] = bench_queries(make_engine(url), now=fixed_now(), repeat=args.repeat)
            if "export" not in skip:
                run["export"] = bench_export(url, workdir=OUT)
            if "import" not in skip:
                run["import"] = bench_import(url, store_url(engine_name, size, fresh=True))
            if "http" not in skip:
                run["http"] = bench_http(url, clients=args.clients, seconds=args.http_seconds,
                                         e2e_repeat=max(5, args.repeat // 2))
            report["runs"].append(run)
            print_run(run)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


def print_run(run: dict[str, Any]) -> None:
    """One table per engine and size, with targets marked."""
    table = Table(title=f"{run['engine']} · {run['customers']:,} customers · {run['data'].get('payments', 0):,} payments")
    for column in ("figure", "median", "p95", "baseline", "ratio", "target"):
        table.add_column(column)
    for name, result in run.get("queries", {}).items():
        bot = result["bot"]
        base = result.get("baseline_like")
        ratio = f"{base['median_ms'] / bot['median_ms']:.1f}x faster" if base and bot["median_ms"] else ""
        target = TARGETS.get(name)
        verdict = "" if target is None else ("PASS" if bot["p95_ms"] <= target else "MISS") + f" ≤{target} ms"
        table.add_row(name, f"{bot['median_ms']} ms", f"{bot['p95_ms']} ms",
                      f"{base['median_ms']} ms LIKE" if base else "", ratio, verdict)
    if "export" in run:
        e = run["export"]
        ratio = e.get("ratio_vs_stdlib", e.get("ratio_vs_copy"))
        base = e.get("stdlib_loop", e.get("pg_copy"), )
        table.add_row("export rows/s", f"{e['bot']['rows_per_s']:,}", f"{e['bot']['peak_rss_mb']} MB peak",
                      f"{base['rows_per_s']:,}", f"{ratio}x", "≥0.7x, ≤200 MB")
    if "import" in run:
        table.add_row("import rows/s", f"{run['import']['rows_per_s']:,}", "", "", "", "≥50,000")
    for name, h in run.get("http", {}).items():
        if "rps" in h:
            table.add_row(f"http {name}", f"{h['rps']} req/s", f"p50 {h['p50_ms']} / p99 {h['p99_ms']} ms",
                          f"max {h['max_ms']} ms", f"{h['errors']} errors", "")
        else:
            table.add_row(f"http {name}", f"ack {h['ack_median_ms']} ms", f"answer p95 {h['answer_p95_ms']} ms",
                          "", "", "")
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
