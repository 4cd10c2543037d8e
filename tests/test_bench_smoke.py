"""The benchmark suite's smoke size runs end to end and writes its JSON (the full sizes run by hand)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_benchmark_smoke_run_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--engines", "sqlite", "--out", str(out)],
                   check=True, capture_output=True, timeout=600, cwd=Path(__file__).resolve().parents[1])
    report = json.loads(out.read_text())
    run = report["runs"][0]
    assert {"search", "lists", "new_7d", "churned_30d", "digest_content", "balance"} <= set(run["queries"])
    assert run["export"]["bot"]["rows"] == run["customers"]
    assert run["import"]["rows"] == run["customers"]
    for key in ("serve_workers_1", "serve_workers_2", "bare_bolt"):
        assert run["http"][key]["requests"] > 0
        assert run["http"][key]["errors"] == 0
        assert run["http"][key]["max_ms"] < 3000
