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
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def refresh_benchmarks(quick: bool) -> list[dict[str, object]]:
    """The headless refresh end to end vs LibreOffice on the plain-formula month, and its
    scaling (time, peak memory) — one generated month per size, measured once for both."""
    sys.path.insert(0, str(HERE))
    from refresh_peer import PeerRun, run_size, soffice_available

    if quick:
        plan = {100: (2, 1, True), 1_000: (2, 0, False)}
        peer_sizes, scale = (100,), (100, 1_000)
    else:  # agents: (kpi_xl runs, LibreOffice runs, compare the results)
        plan = {100: (3, 3, True), 1_000: (3, 3, True), 10_000: (3, 3, True),
                100_000: (1, 1, True)}
        peer_sizes, scale = (100, 1_000, 10_000, 100_000), (1_000, 10_000, 100_000)
    workdir = Path(tempfile.mkdtemp(prefix="kpi-xl-bench-"))
    runs: dict[int, PeerRun] = {}
    try:
        for agents, (kpi_runs, lo_runs, check) in plan.items():
            runs[agents] = run_size(agents, workdir, kpi_runs=kpi_runs, lo_runs=lo_runs,
                                    check=check, lo_timeout=LIBREOFFICE_TIMEOUT)
            for path in workdir.iterdir():  # keep the disk use of the 100,000 run bounded
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rows: list[dict[str, object]] = []
    for agents in peer_sizes:
        run = runs[agents]
        kpi, lo = PeerRun.median(run.kpi), PeerRun.median(run.libreoffice)
        peak = max(m.peak_mib for m in run.kpi)
        note = f"kpi_xl peak {peak:,.0f} MiB, {len(run.kpi)} run(s)"
        if run.libreoffice:
            note += (f"; LibreOffice peak {max(m.peak_mib for m in run.libreoffice):,.0f} MiB, "
                     f"{len(run.libreoffice)} run(s)")
        elif not soffice_available():
            note += "; LibreOffice not run: soffice not installed"
        if run.note:
            note += f"; {run.note}"
        row: dict[str, object] = {
            "benchmark": f"refresh end to end: {agents:,} agents", "kpi_xl_s": kpi,
            "peer": "LibreOffice headless, plain formulas", "peer_s": lo,
            "ratio": None if lo is None else lo / kpi,
            "target": "kpi_xl ≥ 5x faster" if agents == 10_000 else "—", "note": note}
        if run.comparison is not None:
            row["compared"] = run.comparison.summary()
        rows.append(row)
    first, last = runs[scale[0]], runs[scale[-1]]
    t_first, t_last = PeerRun.median(first.kpi), PeerRun.median(last.kpi)
    steps = ", ".join(f"{a:,}: {PeerRun.median(runs[a].kpi):.2f} s / "
                      f"{max(m.peak_mib for m in runs[a].kpi):,.0f} MiB" for a in scale)
    growth = scale[-1] / scale[0]
    rows.append({"benchmark": f"scaling: refresh time {scale[0]:,} → {scale[-1]:,} agents",
                 "kpi_xl_s": t_last, "peer": f"the same at {scale[0]:,} agents",
                 "peer_s": t_first, "ratio": t_last / t_first,
                 "target": f"≤ {1.2 * growth:.0f} (linear)", "note": steps})
    peak_last = max(m.peak_mib for m in last.kpi)
    rows.append({"benchmark": f"scaling: peak memory at {scale[-1]:,} agents",
                 "kpi_xl_s": f"{peak_last:,.0f} MiB", "peer": "—", "peer_s": None,
                 "ratio": None, "target": "< 1 GB" if not quick else "< 1 GB at 100,000"})
    return rows


LIBREOFFICE_TIMEOUT = 1800.0
"""Seconds one LibreOffice recalculation may take before it is reported as not run."""


def machine() -> str:
    cpu, ram = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle
                        if line.startswith("model name")), cpu)
        with open("/proc/meminfo") as handle:
            kib = int(next(line.split()[1] for line in handle if line.startswith("MemTotal")))
        ram = f" · {kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{platform.node()} · {platform.machine()} · {cpu} · {os.cpu_count()} cores{ram} · "
            f"Python {platform.python_version()} · numpy {np.__version__}{libreoffice_version()}")


def libreoffice_version() -> str:
    soffice = shutil.which("soffice")
    if soffice is None:
        return ""
    try:
        out = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                             timeout=60, check=False).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f" · LibreOffice {out[1]}" if len(out) > 1 else ""


def print_table(rows: list[dict[str, object]]) -> None:
    def seconds(value: object) -> str:
        if isinstance(value, str):
            return value
        return "—" if value is None else f"{value:.4f} s"

    print(f"machine: {machine()}\n")
    print("| benchmark | kpi_xl | peer | peer time | ratio | target |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = "—" if row.get("ratio") is None else f"{row['ratio']:.1f}x"
        print(f"| {row['benchmark']} | {seconds(row['kpi_xl_s'])} | {row['peer']} | "
              f"{seconds(row['peer_s'])} | {ratio} | {row['target']} |")
    for row in rows:
        extras = {k: v for k, v in row.items() if k in ("note", "identical", "compared")}
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
        *refresh_benchmarks(quick),
    ]
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
