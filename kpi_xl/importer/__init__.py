"""``kpi-xl import``: fill the 考核 input columns from a per-agent platform export (赤兔 / 千牛).

    report = import_export("2026-11.xlsx", "赤兔客服绩效.csv")
    print("\\n".join(report.lines()))
    sys.exit(report.exit_code)

* :mod:`.read`    — CSV (UTF-8 ± BOM, UTF-16, GB18030/GBK) and .xlsx exports into grids;
* :mod:`.headers` — header normalisation and the synonym table (data);
* :mod:`.units`   — units in headers and values (``(千元)``, ``2分``, ``8:30``) and their fit;
* :mod:`.apply`   — the plan (which 考核 cells get which values) and the atomic save;
* :mod:`.report`  — :class:`ImportReport`.
"""

from __future__ import annotations

from .apply import BookProblem, import_export, plan_import
from .read import ExportFormatError, read_export
from .report import CellNote, ColumnMatch, ImportReport, RowNote

__all__ = [
    "BookProblem",
    "CellNote",
    "ColumnMatch",
    "ExportFormatError",
    "ImportReport",
    "RowNote",
    "import_export",
    "plan_import",
    "read_export",
]
