"""Wall time and peak memory of one command, measured from a fresh process.

``python benchmarks/timed.py refresh BOOK.xlsx`` runs ``kpi-xl refresh BOOK.xlsx`` (as
``python -m kpi_xl.cli``, the entry point the ``kpi-xl`` script calls) and
``python benchmarks/timed.py libreoffice BOOK.xlsx OUTDIR [TIMEOUT]`` converts the book with
LibreOffice headless recalculating every formula on load (``tests/libreoffice.py``: a fresh
profile whose ``OOXMLRecalcMode`` is "always", ``--convert-to xlsx``); each prints one JSON
line ``{"seconds": …, "peak_mib": …}``.

This process starts the command, waits for it and reads
``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak resident memory of the largest process it
waited for, directly or through its children (``soffice.bin`` for LibreOffice). It never waits
for anything else, so the figure belongs to the one command. The wall time includes the
command's start-up (Python and kpi_xl's imports; LibreOffice's launch), as a user running
either from a shell would see it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Measurement:
    """One run: wall seconds and peak resident memory (MiB) of the measured command."""

    seconds: float
    peak_mib: float


def measure(mode: str, *arguments: str | Path, timeout: float = 3600.0) -> Measurement:
    """Run this script in a fresh interpreter for one ``mode`` run; its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), mode, *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Measurement(figures["seconds"], figures["peak_mib"])


def _refresh(book: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kpi_xl.cli", "refresh", book],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"kpi-xl refresh failed (exit {done.returncode}): {done.stderr}")


def _libreoffice(book: str, outdir: str, timeout: float) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.libreoffice import convert

    convert(Path(book), "xlsx", Path(outdir), recalc_always=True, timeout=timeout)


def main(argv: list[str]) -> int:
    mode, *rest = argv
    start = time.perf_counter()
    if mode == "refresh":
        _refresh(rest[0])
    elif mode == "libreoffice":
        _libreoffice(rest[0], rest[1], float(rest[2]) if len(rest) > 2 else 3600.0)
    else:
        raise SystemExit(f"unknown mode {mode!r} (refresh | libreoffice)")
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
