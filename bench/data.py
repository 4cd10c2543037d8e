"""Data-path benchmarks: CSV export (rows/s, peak memory) beside bare baselines, and CSV import (rows/s)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Each side runs in its own process so its peak RSS is its own (VmHWM: ru_maxrss survives exec on Linux). The bot's
# side is the whole `customers-bot export customers -o FILE` process, start-up and migration check included.
STDLIB_EXPORT = """
import csv, json, sqlite3, sys, time
def peak_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss would also carry the parent's from before exec.
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
conn = sqlite3.connect(sys.argv[1])
start = time.perf_counter()
rows = 0
with open(sys.argv[2], "w", encoding="utf-8", newline="") as out:
    writer = csv.writer(out, lineterminator="\\r\\n")
    writer.writerow(["organization", "email", "seats", "status", "created_at", "canceled_at"])
    for row in conn.execute("SELECT organization, email, seats, status, created_at, canceled_at FROM customer "
                            "ORDER BY created_at DESC, id DESC"):
        writer.writerow(row)
        rows += 1
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start,
                  "peak_rss_mb": peak_mb()}))
"""
PG_COPY = """
import json, sys, time, psycopg
def peak_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss would also carry the parent's from before exec.
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
start = time.perf_counter()
rows = 0
with psycopg.connect(sys.argv[1]) as conn, open(sys.argv[2], "wb") as out:
    with conn.cursor().copy("COPY (SELECT organization, email, seats, status, created_at, canceled_at FROM customer "
                            "ORDER BY created_at DESC, id DESC) TO STDOUT WITH CSV HEADER") as copy:
        for chunk in copy:
            out.write(chunk)
            rows += bytes(chunk).count(b"\\n")
print(json.dumps({"rows": rows - 1, "seconds": time.perf_counter() - start,
                  "peak_rss_mb": peak_mb()}))
"""


def _run(script: str, *args: str) -> dict[str, Any]:
    """Run a measuring script in a fresh interpreter and read its JSON line."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = round(result["rows"] / result["seconds"])
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return result


def _cli(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """`customers-bot ARGS` in its own process: exit code, output, seconds (process start included), peak RSS."""
    out = subprocess.run([sys.executable, "-c", CHILD, sys.executable, "-m", "bot.cli", *args], env=env,
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    done: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if done["code"] != 0:
        raise RuntimeError(f"customers-bot {' '.join(args)} failed: {done['stderr']}")
    return done


def _cli_export(database_url: str, target: str) -> dict[str, Any]:
    """The whole `customers-bot export customers -o FILE` process: rows, seconds, rows/s, peak RSS."""
    done = _cli(["export", "customers", "-o", target],
                {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"})
    rows = int(done["stderr"].split(" customers written")[0].split()[-1].replace(",", ""))
    return {"rows": rows, "seconds": round(done["seconds"], 3), "rows_per_s": round(rows / done["seconds"]),
            "peak_rss_mb": round(done["peak_rss_mb"], 1), "cpu_s": round(done["cpu_s"], 2)}


EXPORT_ROUNDS = 3  # one export per side is at the mercy of the page cache and of this shared machine's neighbours


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rows/s, with the highest peak RSS of all runs and how many there were."""
    ordered = sorted(runs, key=lambda r: r["rows_per_s"])
    return {**ordered[len(ordered) // 2], "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs": len(runs)}


def bench_export(database_url: str, *, workdir: Path, rounds: int = EXPORT_ROUNDS) -> dict[str, Any]:
    """The bot's export command beside the stdlib loop and `sqlite3 -csv` (SQLite) or COPY (PostgreSQL).

    Each side runs `rounds` times, alternating, and the median run counts: both see the same warm page cache.
    """
    target = str(workdir / "export.csv")
    sqlite = database_url.startswith("sqlite")
    path = database_url.split("///", 1)[1] if sqlite else ""
    bot: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    for _ in range(rounds):
        bot.append(_cli_export(database_url, target))
        base.append(_run(STDLIB_EXPORT, path, target) if sqlite
                    else _run(PG_COPY, database_url.replace("+psycopg", ""), target))
    results: dict[str, Any] = {"bot": _median(bot)}
    if sqlite:
        results["stdlib_loop"] = _median(base)
        if shutil.which("sqlite3"):
            start = time.perf_counter()
            with open(target, "w") as out:
                subprocess.run(["sqlite3", "-csv", "-header", path, "SELECT organization, email, seats, status, "
                                "created_at, canceled_at FROM customer ORDER BY created_at DESC, id DESC"],
                               stdout=out, check=True)
            seconds = time.perf_counter() - start
            results["sqlite3_cli"] = {"rows": results["bot"]["rows"], "seconds": round(seconds, 3),
                                      "rows_per_s": round(results["bot"]["rows"] / seconds)}
        results["ratio"] = round(results["bot"]["rows_per_s"] / results["stdlib_loop"]["rows_per_s"], 2)
    else:
        results["pg_copy"] = _median(base)
        results["ratio"] = round(results["bot"]["rows_per_s"] / results["pg_copy"]["rows_per_s"], 2)
    Path(target).unlink(missing_ok=True)
    return results


# Runs the CLI as a child and reports the child's peak RSS and CPU (RUSAGE_CHILDREN of a fresh process is that child's).
CHILD = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": done.returncode, "seconds": time.perf_counter() - start, "stdout": done.stdout,
                  "stderr": done.stderr[-2000:], "peak_rss_mb": usage.ru_maxrss / 1024,
                  "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


def _import(csv_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """`customers-bot import customers FILE` in its own process: rows, seconds (process start included), peak RSS."""
    done = _cli(["import", "customers", str(csv_path)], env)
    rows = int(done["stdout"].split(" rows")[0].split()[-1].replace(",", ""))
    return {"rows": rows, "seconds": round(done["seconds"], 2), "rows_per_s": round(rows / done["seconds"]),
            "peak_rss_mb": round(done["peak_rss_mb"], 1), "cpu_s": round(done["cpu_s"], 2),
            "summary": done["stdout"].strip()}


def bench_import(source_url: str, empty_url: str) -> dict[str, dict[str, Any]]:
    """Export every customer, import that file into an empty store, then import it again (nothing changes)."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "customers.csv"
        _cli_export(source_url, str(csv_path))
        env = {**os.environ, "DATABASE_URL": empty_url, "LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
        first = _import(csv_path, env)
        again = _import(csv_path, env)
    return {"import": first, "import_again": again}
