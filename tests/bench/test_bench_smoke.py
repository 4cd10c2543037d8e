"""The benchmark suite's smoke size runs end to end and writes every figure (the full sizes run by hand).

Both benches run in this process against one tiny store (bench/out/sqlite-300.sqlite3): only the server the mix asks
(and the Slack sink) start as processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import mix
from bench import run as suite

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_smoke_run_writes_every_figure_with_its_baseline(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "smoke.json"
    suite.main(["--smoke", "--engines", "sqlite", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "PASS" in printed or "MISS" in printed  # the printed table carries verdicts
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
    assert "http" not in run  # what a user waits for over HTTP is the mix below, each question asked once

    asked = mix.measure(f"sqlite:///{ROOT / 'bench' / 'out' / 'sqlite-300.sqlite3'}", seed=7, questions=24)
    assert len({row["question"] for row in asked["asked"]}) == 24  # each question asked once
    assert asked["bare_like_scan_ms"] > 0
    assert asked["end_to_end"]["max_ms"] > 0
    assert asked["page_clicks"] > 0  # Next and Previous asked through the same server
    assert all(row["plan"] and row["answer_ms"] > 0 for row in asked["asked"])
    assert "10 slowest:" in mix.report(asked)
