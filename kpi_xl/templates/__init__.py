"""Template workbooks as code: data descriptions (:mod:`.specs`) and one builder (:mod:`.builder`).

``build_template(id)`` gives the bytes of ``workbook_templates/<id>.xlsx`` (deterministic);
``build_all(out_dir)`` writes every template; ``new_month(id, out, month=…, sample=…)`` makes a
month workbook, optionally filled with a clean, deterministic sample roster and metrics.
``python -m kpi_xl.templates`` rebuilds ``workbook_templates/``.

The descriptions (``TEMPLATES``, ``get``) are pure data; the workbook functions (openpyxl) load
on first use, so the payroll refresh in xlwings Lite does not import openpyxl.
"""

from __future__ import annotations

import importlib
from typing import Any

from kpi_xl.templates.specs import TEMPLATES, get

__all__ = ["TEMPLATES", "TEMPLATE_DIR", "build_all", "build_template", "get", "new_month"]

_WORKBOOK_NAMES = frozenset({"TEMPLATE_DIR", "DEFAULT_SEED", "build_all", "build_template",
                             "new_month"})


def __getattr__(name: str) -> Any:
    if name in _WORKBOOK_NAMES:
        return getattr(importlib.import_module(f"{__name__}.workbooks"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
