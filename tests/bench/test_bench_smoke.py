"""The benchmark suite's smoke size runs end to end and writes every figure (the full sizes run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_smoke_run_writes_every_figure_with_its_baseline(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--engines", "sqlite", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PASS" in done.stdout or "MISS" in done.stdout  # the printed table carries verdicts
    run = json.loads(out.read_text())["runs"][0]
    assert {"search", "lists", "new_7d", "churned_30d", "digest_content", "balance"} <= set(run["queries"])
    for name in ("search", "lists", "new_7d", "churned_30d", "digest_content", "balance"):
        figure = run["queries"][name]
        assert figure["bot"]["median_ms"] > 0
        assert figure["bot"]["p95_ms"] >= figure["bot"]["median_ms"]
        assert figure["baseline"]["median_ms"] > 0
        assert figure["ratio"] > 0
    assert run["export"]["bot"]["rows"] == run["customers"]
    assert run["export"]["stdlib_loop"]["rows"] == run["customers"]
    assert run["export"]["bot"]["peak_rss_mb"] > 0
    assert run["import"]["rows"] == run["customers"]
    assert run["import_again"]["rows"] == run["customers"]
    http = run["http"]
    assert http["search_e2e"]["answer_median_ms"] > 0  # an answer may even beat its ack
    for key in ("serve_workers_1", "serve_workers_2", "bare_bolt"):
        assert http[key]["requests"] > 0
        assert http[key]["errors"] == 0
        assert http[key]["max_ms"] < 3000
    for key in ("serve_workers_1", "serve_workers_2"):
        assert http[key]["answered"] == http[key]["requests"]  # every command got its answer at the response_url
    mix = tmp_path / "mix.json"
    store = f"sqlite:///{ROOT / 'bench' / 'out' / 'sqlite-300.sqlite3'}"
    done = subprocess.run([sys.executable, "-m", "bench.mix", "--url", store, "--questions", "24", "--out", str(mix)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    asked = json.loads(mix.read_text())
    assert len({row["question"] for row in asked["asked"]}) == 24  # each question asked once
    assert asked["bare_like_scan_ms"] > 0
    assert asked["end_to_end"]["max_ms"] > 0
    assert all(row["plan"] and row["answer_ms"] > 0 for row in asked["asked"])
    assert "10 slowest" in done.stdout
