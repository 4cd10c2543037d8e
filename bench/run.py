"""Run the benchmark suite: `python -m bench.run --sizes 100000,1000000 --engines sqlite,postgresql`.

Prints a table and writes JSON; every figure is a median and p95 over repeated runs, beside its baseline.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.data import bench_export, bench_import
from bench.queries import bench_queries, fixed_now
from bench.report import COLUMNS, Row, engine_rows, rows, title
from storage.bulk.demo import fill_demo_data, has_customers
from storage.db import make_engine, upgrade

OUT = Path(__file__).parent / "out"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def store_url(engine_name: str, size: int, *, seed: int = 1, empty: bool = False, drop: bool = False) -> str:
    """Where the demo store of `size` customers and `seed` lives (cached); `empty` = its import target; `drop` =
    start again from nothing."""
    suffix = ("" if seed == 1 else f"-seed{seed}") + ("-empty" if empty else "")
    if engine_name == "sqlite":
        path = OUT / f"sqlite-{size}{suffix}.sqlite3"
        if drop:
            for extra in ("", "-wal", "-shm"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = f"bench_{size}{suffix.replace('-', '_')}"
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if drop and exists:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        if drop or not exists:
            conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def prepare(url: str, size: int, seed: int) -> dict[str, Any]:
    """Migrate and fill the store with demo data unless it already holds it; returns the generation time."""
    engine = make_engine(url)
    upgrade(engine)
    info: dict[str, Any] = {"cached": True, "seed": seed}
    if not has_customers(engine=engine):
        start = time.perf_counter()
        summary = fill_demo_data(engine=engine, customers=size, seed=seed, now=fixed_now())
        info = {"cached": False, "seed": seed, "seconds": round(time.perf_counter() - start, 1), "payments": summary.payments}
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


def main(argv: list[str] | None = None) -> None:
    """Parse arguments (argv, else the command line), run every benchmark, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="customers per store, comma-separated")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query (after a warm-up)")
    parser.add_argument("--skip", default="", help="comma-separated: queries,export,import")
    parser.add_argument("--seed", type=int, default=1, help="demo data seed (stores are cached per size and seed)")
    parser.add_argument("--regenerate", action="store_true", help="drop the cached stores and generate them again")
    parser.add_argument("--smoke", action="store_true",
                        help="300 customers, 1 repeat, one export round: every figure's code path (CI)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "latest.json"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.repeat = "300", 1
    skip = set(filter(None, args.skip.split(",")))
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                              "argv": sys.argv[1:], "runs": []}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for engine_name in args.engines.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            url = store_url(engine_name, size, seed=args.seed, drop=args.regenerate)
            run: dict[str, Any] = {"engine": engine_name, "customers": size, "data": prepare(url, size, args.seed)}
            if "queries" not in skip:
                engine = make_engine(url)
                run["queries"] = bench_queries(engine, now=fixed_now(), repeat=args.repeat)
                engine.dispose()
            if "export" not in skip:
                run["export"] = bench_export(url, workdir=OUT, **({"rounds": 1} if args.smoke else {}))
            if "import" not in skip:
                run.update(bench_import(url, store_url(engine_name, size, seed=args.seed, empty=True, drop=True)))
            report["runs"].append(run)
            print_table(title(run), COLUMNS, rows(run))
            out.write_text(json.dumps(report, indent=2) + "\n")  # after every run, so a long run keeps its parts
    versus = engine_rows(report["runs"])
    if versus:
        print_table("PostgreSQL against SQLite", ("figure", "PostgreSQL", "SQLite", "", "ratio", "target", "verdict"),
                    versus)
    print(f"results written to {out}")


def print_table(heading: str, header: tuple[str, ...], body: list[Row]) -> None:
    """A rich table, verdicts coloured."""
    table = Table(title=heading, title_justify="left")
    for column in header:
        table.add_column(column, overflow="fold")
    for row in body:
        table.add_row(*row[:-1], f"[green]{row[-1]}[/]" if row[-1] == "PASS" else f"[red]{row[-1]}[/]")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
