"""The benchmarks run (``--quick``): a smoke test that asserts nothing about time.

Lives here because the function-path benchmark runs xlwings.server (PolyForm Noncommercial).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.officejs
ROOT = Path(__file__).resolve().parents[2]


def test_benchmarks_quick_run_prints_every_row() -> None:
    completed = subprocess.run([sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT,
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    for row in ("core: tier", "Office.js path", "recalc:", "refresh end to end: 100 agents",
                "scaling: refresh time", "scaling: peak memory"):
        assert row in completed.stdout
    assert "'identical': True" in completed.stdout  # same tiers as numpy.digitize
    if shutil.which("soffice"):  # kpi_xl's refresh and LibreOffice agree on every number
        assert "1,700 values compared (100 agents × 17)" in completed.stdout
        assert " 0 mismatches" in completed.stdout
