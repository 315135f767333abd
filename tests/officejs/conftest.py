"""Fixtures for the Office.js tests (xlwings.server: PolyForm Noncommercial licence)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
