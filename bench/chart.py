"""Draw latency against store size from benchmark JSON: `python -m bench.chart bench/results/*.json`.

One panel per engine: the p95 of every query figure at each size (solid), the bare-SQL baseline of search and balance
(dotted), and the targets (grey bands), log-log so a reader sees how cost grows with the store.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.report import LATENCY_TARGETS

FIGURES = ("search", "lists", "new_7d", "churned_30d", "digest_content", "balance")
BASELINES = ("search", "balance")


def latest_runs(paths: list[str]) -> list[dict[str, Any]]:
    """Every run with query figures; for a repeated engine and size the file read last wins."""
    by: dict[tuple[str, int], dict[str, Any]] = {}
    for path in paths:
        for run in json.loads(Path(path).read_text())["runs"]:
            if "queries" in run:
                by[(run["engine"], run["customers"])] = run
    return list(by.values())


def main() -> None:
    """Write bench/latency_vs_size.png."""
    runs = latest_runs(sys.argv[1:])
    engines = sorted({r["engine"] for r in runs}, key=lambda e: e != "sqlite")
    fig, axes = plt.subplots(1, len(engines), figsize=(7 * len(engines), 5.5), sharey=True, squeeze=False)
    colours = dict(zip(FIGURES, plt.get_cmap("tab10").colors, strict=False))
    for ax, engine in zip(axes[0], engines, strict=True):
        mine = sorted((r for r in runs if r["engine"] == engine), key=lambda r: r["customers"])
        xs = [r["customers"] for r in mine]
        for figure in FIGURES:
            ax.plot(xs, [r["queries"][figure]["bot"]["p95_ms"] for r in mine], marker="o", color=colours[figure],
                    label=f"{figure} p95")
        for figure in BASELINES:
            ax.plot(xs, [r["queries"][figure]["baseline"]["p95_ms"] for r in mine], marker="x", linestyle=":",
                    color=colours[figure], label=f"{figure}: bare SQL p95")
        for target in sorted(set(LATENCY_TARGETS.values())):
            ax.axhline(target, color="grey", linewidth=0.8, linestyle="--")
            ax.annotate(f"target {target} ms", (xs[0], target), fontsize=7, color="grey", va="bottom")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [f"{x:,}" for x in xs])
        ax.set_xlabel("customers in the store (about 5.5 payments each)")
        ax.set_title(engine)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("latency, ms (log)")
    axes[0][-1].legend(fontsize=7, loc="upper left")
    fig.suptitle("Customers Bot: query latency against store size (2-core machine)")
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "latency_vs_size.png", dpi=110)


if __name__ == "__main__":
    main()
