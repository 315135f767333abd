"""kpi_xl benchmarks: figures for the README, never assertions about time.

``python benchmarks/run.py`` runs every benchmark at full size and prints a table;
``--quick`` runs each at a small size in seconds (CI smoke test: it only proves they run).
Each figure is the median of several runs; the machine is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

S1_COMPLETION = ("X≥100%:100; 90%≤X<100%:85; 80%≤X<90%:70; 70%≤X<80%:55; 60%≤X<70%:40; "
                 "50%≤X<60%:25; 40%≤X<50%:10; X<40%:0")


def median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # warm caches (rule parsing, imports)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def core_throughput(values: int, runs: int) -> dict[str, object]:
    """Tier ``values`` numbers with the S1 completion rule vs a bare numpy.digitize."""
    from kpi_xl.core.notation import parse_rule
    from kpi_xl.core.tiers import evaluate
    from kpi_xl.core.values import read_column

    rule = parse_rule(S1_COMPLETION)
    numbers = np.random.default_rng(1).uniform(0, 1.3, values)
    thresholds = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    points = np.array([0, 10, 25, 40, 55, 70, 85, 100.0])
    ours = median_seconds(lambda: evaluate(rule, read_column(numbers)), runs)
    floor = median_seconds(lambda: points[np.digitize(numbers, thresholds, right=False)], runs)
    same = np.array_equal(evaluate(rule, read_column(numbers)).values,
                          points[np.digitize(numbers, thresholds)])
    return {"benchmark": f"core: tier {values:,} values", "kpi_xl_s": ours,
            "peer": "numpy.digitize", "peer_s": floor, "ratio": ours / floor,
            "target": "≤ 2x the floor", "identical": same}


def function_path(rows: int) -> dict[str, object]:
    """KPI_TIER through xlwings' Office.js dispatch: one column call vs one call per cell."""
    script = HERE / "officejs_path.py"
    out = subprocess.run([sys.executable, str(script), str(rows)], capture_output=True,
                         text=True, check=True, cwd=HERE.parent)
    figures = json.loads(out.stdout)
    per_cell = figures["cell_us_per_row"]
    return {"benchmark": f"Office.js path: KPI_TIER over {rows:,} rows",
            "kpi_xl_s": figures["column_us_per_row"] * rows / 1e6,
            "peer": f"{rows:,} single-cell calls", "peer_s": per_cell * rows / 1e6,
            "ratio": per_cell / figures["column_us_per_row"],
            "target": "range call ≥ 20x faster",
            "note": f"{figures['column_us_per_row']:.1f} vs {per_cell:.1f} µs/row"}


def recalc_columns(rows: int, runs: int) -> dict[str, object]:
    """The recalc engine on 10 built-in formula columns (IF, ROUND, SUMPRODUCT, RANK, …)."""
    sys.path.insert(0, str(HERE))
    from recalc_columns import FORMULAS, build

    from kpi_xl.recalc import recalculate

    book = build(rows)
    seconds = median_seconds(lambda: recalculate(book, functions={}, rowwise=frozenset()), runs)
    return {"benchmark": f"recalc: {len(FORMULAS)} formula columns × {rows:,} rows",
            "kpi_xl_s": seconds, "peer": "formulas 1.3.4 / pycel (measured in notes)",
            "peer_s": None, "ratio": None, "target": "well under 1 s at 10,000 rows"}


def machine() -> str:
    return (f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
            f"Python {platform.python_version()} · numpy {np.__version__}")


def print_table(rows: list[dict[str, object]]) -> None:
    def seconds(value: object) -> str:
        return "—" if value is None else f"{value:.4f} s"

    print(f"machine: {machine()}\n")
    print("| benchmark | kpi_xl | peer | peer time | ratio | target |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = "—" if row.get("ratio") is None else f"{row['ratio']:.1f}x"
        print(f"| {row['benchmark']} | {seconds(row['kpi_xl_s'])} | {row['peer']} | "
              f"{seconds(row['peer_s'])} | {ratio} | {row['target']} |")
    for row in rows:
        extras = {k: v for k, v in row.items() if k in ("note", "identical")}
        if extras:
            print(f"- {row['benchmark']}: {extras}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    quick = parser.parse_args(argv).quick
    runs = 3 if quick else 5
    rows = [
        core_throughput(10_000 if quick else 1_000_000, runs),
        function_path(200 if quick else 10_000),
        recalc_columns(200 if quick else 10_000, runs),
    ]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
