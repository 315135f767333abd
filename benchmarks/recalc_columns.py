"""Time ``recalculate()`` on 10 formula columns × 10,000 rows (IF, ROUND, SUMPRODUCT with
fixed weights, COUNTIF, RANK, arithmetic).

Run: ``python benchmarks/recalc_columns.py [rows]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from kpi_xl.recalc import recalculate
from kpi_xl.workbook.model import BookData, SheetData

FORMULAS = {
    7: "=SUMPRODUCT(B{r}:E{r},规则!$B$1:$E$1)",
    8: "=ROUND(G{r},2)",
    9: '=IF(H{r}>=90,"A",IF(H{r}>=80,"B","C"))',
    10: "=RANK(H{r},$H$2:$H${last})",
    11: '=COUNTIF($H$2:$H${last},">="&H{r})',
    12: "=F{r}*0.03+IF(J{r}<=100,500,0)",
    13: "=ROUND(L{r}*(1+H{r}/100),2)",
    14: "=IFERROR(F{r}/B{r},0)",
    15: "=MAX(B{r}:E{r})-MIN(B{r}:E{r})",
    16: "=AVERAGE(B{r}:E{r})",
}


def build(rows: int, seed: int = 7) -> BookData:
    rng = np.random.default_rng(seed)
    data = SheetData("考核")
    last = rows + 1
    for col, title in enumerate(["姓名", "响应", "转化", "满意", "质检", "销售额"], start=1):
        data.values[(1, col)] = title
    scores = rng.integers(40, 101, size=(rows, 4)).astype(float)
    sales = rng.integers(0, 200_000, size=rows).astype(float)
    for i in range(rows):
        r = i + 2
        data.values[(r, 1)] = f"客服{i:05d}"
        for j in range(4):
            data.values[(r, 2 + j)] = float(scores[i, j])
        data.values[(r, 6)] = float(sales[i])
        for col, text in FORMULAS.items():
            data.formulas[(r, col)] = text.format(r=r, last=last)
    rules = SheetData("规则", values={(1, 2): 0.3, (1, 3): 0.3, (1, 4): 0.2, (1, 5): 0.2})
    return BookData({"考核": data, "规则": rules})


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    book = build(rows)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = recalculate(book, functions={}, rowwise=frozenset())
        timings.append(time.perf_counter() - start)
    cells = sum(len(v) for v in result.values.values())
    print(f"{len(FORMULAS)} formula columns × {rows} rows = {cells} cells; "
          f"recalculate(): best {min(timings):.3f} s, runs {', '.join(f'{t:.3f}' for t in timings)}"
          f"; problems {len(result.problems)}, not computable {len(result.not_computable)}")


if __name__ == "__main__":
    main()
