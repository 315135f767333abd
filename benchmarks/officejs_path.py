"""The function path of xlwings Lite: KPI_TIER through xlwings' Office.js dispatch
(``xlwings.server.custom_functions_call``) — one call over a column vs one call per cell.

Uses ``xlwings.server`` (PolyForm Noncommercial): run only for measurement, as the tests in
``tests/officejs`` do. Prints one JSON line: µs per row for both ways and the ratio.
Run: ``python benchmarks/officejs_path.py [rows]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.officejs.runner import stub_pyodide  # sets XLWINGS_ON_SERVER before xlwings loads

RULE = "Y≥50%:100; 45%≤Y<50%:80; 40%≤Y<45%:60; Y<40%:0"


async def _measure(rows: int) -> dict[str, float]:
    import numpy as np
    import xlwings
    from xlwings import server

    from kpi_xl import udfs

    values = np.random.default_rng(3).uniform(0.2, 0.7, rows).round(4).tolist()

    def request(cells: list[list[object]]) -> dict:
        return {"func_name": "KPI_TIER", "args": [cells, [[RULE]]], "version": xlwings.__version__,
                "client": "Office.js", "runtime": "1.4"}

    await server.custom_functions_call(request([[values[0]]]), udfs)  # warm-up
    start = time.perf_counter()
    await server.custom_functions_call(request([[v] for v in values]), udfs)
    column = time.perf_counter() - start
    start = time.perf_counter()
    for value in values:
        await server.custom_functions_call(request([[value]]), udfs)
    cells = time.perf_counter() - start
    return {"rows": rows, "column_us_per_row": column / rows * 1e6,
            "cell_us_per_row": cells / rows * 1e6, "ratio": cells / column}


if __name__ == "__main__":
    stub_pyodide()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(asyncio.run(_measure(count))))
