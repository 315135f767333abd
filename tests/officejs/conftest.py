"""Fixtures for the Office.js tests (xlwings.server: PolyForm Noncommercial licence)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.excel_standin import Grid, excel_stores

RUNNER = Path(__file__).with_name("runner.py")
ROOT = Path(__file__).resolve().parents[2]


def run_officejs(request: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, str(RUNNER)],
        input=json.dumps(request, ensure_ascii=False),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.fixture(scope="session")
def officejs():
    return run_officejs


def apply_actions(names: list[str], grids: dict[str, Grid], actions: list[dict],
                  stored: Callable[[object], object] = excel_stores) -> dict[str, Grid]:
    """``grids`` (sheet → 1-based cell → value, blanks left out; changed in place) after the
    add-in applied a script's actions: cleared ranges, and values set as Excel stores them."""
    for action in actions:
        if action["func"] not in ("rangeClearContents", "setValues"):
            continue
        grid = grids[names[action["sheet_position"]]]
        top, left = action["start_row"] + 1, action["start_column"] + 1
        if action["func"] == "rangeClearContents":
            for r in range(top, top + action["row_count"]):
                for c in range(left, left + action["column_count"]):
                    grid.pop((r, c), None)
            continue
        for i, row in enumerate(action["values"]):
            for j, value in enumerate(row):
                grid.pop((top + i, left + j), None)
                if value not in ("", None):
                    grid[(top + i, left + j)] = stored(value)
    return grids
