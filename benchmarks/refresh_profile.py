"""Where a headless refresh spends its time and memory, stage by stage.

``python benchmarks/refresh_profile.py --agents 10000`` generates a taobao-cs month
(:mod:`s1_month`) and refreshes it in this process with the stages of
:func:`kpi_xl.workbook.refresh.refresh_file` wrapped (not copied): ``read_book``,
``recalculate``, ``compute_payroll``, ``store_results``, each ``replace_sheet_rows`` and
``save``. Per stage it prints the seconds, the resident memory after it and the peak so far
(``ru_maxrss``; lxml's trees are outside Python's allocator, so ``tracemalloc`` would miss
them). ``--cprofile N`` adds a second refresh under cProfile and prints the N functions with
the most cumulative and the most own time (cProfile slows the run about 2.5×; read shares, not
seconds). ``BOOK.xlsx`` instead of ``--agents`` profiles an existing workbook (a copy of it).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def rss_mib() -> float:
    """Resident memory of this process now (MiB)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StageLog:
    """Wraps callables so each call logs (stage, seconds, RSS after, peak so far)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []

    def wrap(self, name: str, function: Callable[..., object],
             label: Callable[..., str] | None = None) -> Callable[..., object]:
        @functools.wraps(function)
        def logged(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            result = function(*args, **kwargs)
            stage = label(*args, **kwargs) if label else name
            self.rows.append((stage, time.perf_counter() - start, rss_mib(), peak_mib()))
            return result

        return logged

    def table(self, total: float) -> str:
        lines = ["| stage | seconds | share | RSS after (MiB) | peak so far (MiB) |",
                 "|---|---|---|---|---|"]
        for stage, seconds, rss, peak in self.rows:
            lines.append(f"| {stage} | {seconds:.2f} | {seconds / total:.0%} | {rss:.0f} | "
                         f"{peak:.0f} |")
        lines.append(f"| **refresh_file total** | {total:.2f} | 100% | {rss_mib():.0f} | "
                     f"{peak_mib():.0f} |")
        return "\n".join(lines)


@contextlib.contextmanager
def stages_logged(log: StageLog) -> Iterator[None]:
    """Wrap the stages of ``refresh_file`` (where it looks them up) for the duration."""
    from kpi_xl.workbook import headless, refresh
    from kpi_xl.workbook.xlsx import XlsxEditor

    def rows_label(_editor: object, sheet: str, rows: list[object], **_: object) -> str:
        count = f" ({len(rows):,})" if hasattr(rows, "__len__") else ""
        return f"write {sheet} rows{count}"

    patches = [
        (headless, "read_book", log.wrap("read_book (parse the xlsx)", headless.read_book)),
        (headless, "recalculate", log.wrap("recalculate (formula engine)",
                                           headless.recalculate)),
        (refresh, "compute_payroll", log.wrap("compute_payroll", refresh.compute_payroll)),
        (refresh, "store_results", log.wrap("store_results (cache formula values)",
                                            refresh.store_results)),
        (XlsxEditor, "replace_sheet_rows", log.wrap("rows", XlsxEditor.replace_sheet_rows,
                                                    rows_label)),
        (XlsxEditor, "set_cells", log.wrap("set 概览 cells", XlsxEditor.set_cells)),
        (XlsxEditor, "save", log.wrap("save (serialise, zip, atomic replace)",
                                      XlsxEditor.save)),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def profile_stages(book: Path) -> str:
    """Refresh ``book`` (in place) with every stage logged; the markdown table."""
    from kpi_xl.workbook.refresh import refresh_file

    log = StageLog()
    with stages_logged(log):
        start = time.perf_counter()
        refresh_file(book)
        total = time.perf_counter() - start
    return log.table(total)


def profile_functions(book: Path, top: int) -> str:
    """Refresh ``book`` (in place) under cProfile; the top functions by cumulative and own
    time, with their share of the whole run."""
    from kpi_xl.workbook.refresh import refresh_file

    profiler = cProfile.Profile()
    profiler.enable()
    refresh_file(book)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = max(row[3] for row in stats.stats.values())  # type: ignore[attr-defined]
    lines = [f"cProfile total {total:.2f} s (profiled; shares are what matter)", "",
             "| function | own s | own share | cumulative s | cumulative share | calls |",
             "|---|---|---|---|---|---|"]
    for key in ("cumulative", "tottime"):
        entries = sorted(stats.stats.items(),  # type: ignore[attr-defined]
                         key=lambda item: item[1][3 if key == "cumulative" else 2],
                         reverse=True)
        for (filename, line, name), (_, calls, own, cumulative, _) in entries[:top]:
            where = f"{_short(filename)}:{line}({name})"
            lines.append(f"| {where} | {own:.2f} | {own / total:.0%} | {cumulative:.2f} | "
                         f"{cumulative / total:.0%} | {calls:,} |")
        lines.append("| — | | | | | |")
    return "\n".join(lines[:-1])


def _short(filename: str) -> str:
    marker = f"{os.sep}kpi_xl{os.sep}"
    if marker in filename:
        return "kpi_xl/" + filename.split(marker, 1)[1]
    return Path(filename).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("book", nargs="?", type=Path, help="profile a copy of this workbook")
    parser.add_argument("--agents", type=int, default=10_000, help="generate a month this big")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also run under cProfile and print the top N functions")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kpi-xl-profile-"))
    try:
        if args.book is not None:
            source = workdir / "source.xlsx"
            shutil.copyfile(args.book, source)
        else:
            import s1_month

            source = s1_month.write_kpi_month(s1_month.generate(args.agents),
                                              workdir / "source.xlsx")
        target = workdir / "book.xlsx"
        shutil.copyfile(source, target)
        print(profile_stages(target))
        if args.cprofile:
            shutil.copyfile(source, target)
            print()
            print(profile_functions(target, args.cprofile))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
