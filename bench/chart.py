"""Draw latency against store size from the benchmark JSON files: `python -m bench.chart bench/results/*.json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

FIGURES = ("search", "lists", "new_7d", "churned_30d", "digest_content", "balance")


def main() -> None:
    """One line per figure and engine: p95 latency (ms) at each store size, log-log."""
    runs = [run for path in sys.argv[1:] for run in json.loads(Path(path).read_text())["runs"] if "queries" in run]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for engine in sorted({r["engine"] for r in runs}):
        mine = sorted((r for r in runs if r["engine"] == engine), key=lambda r: r["customers"])
        for figure in FIGURES:
            xs = [r["customers"] for r in mine]
            ys = [r["queries"][figure]["bot"]["p95_ms"] for r in mine]
            ax.plot(xs, ys, marker="o", linestyle="-" if engine == "sqlite" else "--", label=f"{figure} ({engine})")
        base = [r["queries"]["search"]["baseline_like"]["p95_ms"] for r in mine]
        ax.plot([r["customers"] for r in mine], base, color="grey", linestyle=":", marker="x",
                label=f"bare LIKE search ({engine})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers in the store")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_title("Customers Bot: query latency against store size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(Path(__file__).parent / "latency_vs_size.png", dpi=120)


if __name__ == "__main__":
    main()
