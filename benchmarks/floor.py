"""What no pure-Python refresh of a month can avoid: the floor under ``kpi-xl refresh``.

``python benchmarks/floor.py --agents 10000`` generates a taobao-cs month (:mod:`s1_month`),
refreshes a copy once, then times, each as the median of several runs, the steps any
refresh written in Python must take however little it does per cell:

1. **start**: a new interpreter importing what the refresh imports (numpy, lxml, kpi_xl);
2. **inflate** every worksheet part of the month;
3. **one regex pass** over each of them (the scanner's cell pattern: one C-level pass, no
   Python per cell);
4. **visit each cell once** in Python (unpack the pass's tuple, nothing else);
5. **deflate** the parts the refresh rewrote, at the writer's level.

Their sum is the time of a refresh that does no recalculation, no payroll and no per-cell
work beyond a visit. ``--peer-seconds S`` (LibreOffice's time for the same month, from
``benchmarks/run.py``) prints the best ratio such a refresh could reach. ``BOOK.xlsx``
instead of ``--agents`` measures an existing workbook.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import median_seconds  # noqa: E402  (benchmarks/ is on sys.path above)

REFRESH_IMPORTS = ("import kpi_xl.cli, kpi_xl.workbook.refresh, kpi_xl.workbook.xlsx_read, "
                   "kpi_xl.recalc, kpi_xl.payroll.compute")


def sheet_parts(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: info for info in zf.infolist()
                if info.filename.startswith("xl/worksheets/sheet")}


def rewritten_parts(before: Path, after: Path) -> list[str]:
    """The worksheet parts whose content the refresh changed."""
    old, new = sheet_parts(before), sheet_parts(after)
    return sorted(name for name, info in new.items()
                  if name not in old or old[name].CRC != info.CRC)


def floor_steps(source: Path, refreshed: Path, runs: int) -> list[tuple[str, float]]:
    from kpi_xl.workbook.sheetstream import COMPRESS_LEVEL
    from kpi_xl.workbook.xlsx_read import _CELL_RE

    start = median_seconds(lambda: subprocess.run([sys.executable, "-c", REFRESH_IMPORTS],
                                                  check=True, cwd=HERE.parent), runs)
    with zipfile.ZipFile(source) as zf:
        names = list(sheet_parts(source))
        inflate = median_seconds(lambda: [zf.read(name) for name in names], runs)
        parts = [zf.read(name) for name in names]
    scan = median_seconds(lambda: [_CELL_RE.findall(part) for part in parts], runs)
    matches = [_CELL_RE.findall(part) for part in parts]

    def visit() -> None:
        for cells in matches:
            for _letters, _digits, _formula, _result, _si, _shown, _number, _index, _inline, \
                    _rest in cells:
                pass

    touch = median_seconds(visit, runs)
    with zipfile.ZipFile(refreshed) as zf:
        written = [zf.read(name) for name in rewritten_parts(source, refreshed)]

    def deflate() -> None:
        for part in written:
            packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
            packer.compress(part)
            packer.flush()

    cells = sum(map(len, matches))
    megabytes = sum(map(len, parts)) / 1e6
    return [("start: interpreter + the refresh's imports", start),
            (f"inflate {len(parts)} sheet parts ({megabytes:.1f} MB of XML)", inflate),
            ("one regex pass over them", scan),
            (f"visit each of {cells:,} cells once in Python", touch),
            (f"deflate the {len(written)} rewritten parts "
             f"({sum(map(len, written)) / 1e6:.1f} MB)", median_seconds(deflate, runs))]


def refresh_seconds(source: Path, workdir: Path, runs: int) -> float:
    """``kpi-xl refresh`` on a fresh copy, as a command (median)."""
    timings = []
    for _ in range(runs):
        target = workdir / "timed.xlsx"
        shutil.copyfile(source, target)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kpi_xl.cli", "refresh", str(target)],
                       check=True, capture_output=True, cwd=HERE.parent)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", nargs="?", type=Path, help="measure this workbook")
    parser.add_argument("--agents", type=int, default=10_000, help="generate a month this big")
    parser.add_argument("--runs", type=int, default=5, help="runs per median")
    parser.add_argument("--peer-seconds", type=float,
                        help="LibreOffice's time for the same month (from benchmarks/run.py)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kpi-xl-floor-"))
    try:
        source = workdir / "source.xlsx"
        if args.book is not None:
            shutil.copyfile(args.book, source)
        else:
            import s1_month

            s1_month.write_kpi_month(s1_month.generate(args.agents), source)
        refreshed = workdir / "refreshed.xlsx"
        shutil.copyfile(source, refreshed)
        subprocess.run([sys.executable, "-m", "kpi_xl.cli", "refresh", str(refreshed)],
                       check=True, capture_output=True, cwd=HERE.parent)
        steps = floor_steps(source, refreshed, args.runs)
        floor = sum(seconds for _, seconds in steps)
        actual = refresh_seconds(source, workdir, args.runs)
        print("| step | seconds |\n|---|---|")
        for step, seconds in steps:
            print(f"| {step} | {seconds:.3f} |")
        print(f"| **floor: the sum** | **{floor:.2f}** |")
        print(f"| `kpi-xl refresh` itself | {actual:.2f} |")
        if args.peer_seconds:
            print(f"\nLibreOffice {args.peer_seconds:.2f} s: a refresh at the floor would be "
                  f"{args.peer_seconds / floor:.1f}× faster; kpi-xl refresh is "
                  f"{args.peer_seconds / actual:.1f}×; 5× needs ≤ {args.peer_seconds / 5:.2f} s.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
