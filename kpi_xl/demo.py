"""``kpi-xl demo``: a sample month of taobao-cs with six months of history, refreshed."""

from __future__ import annotations

import os
from pathlib import Path

from kpi_xl.payroll import PayrollResult
from kpi_xl.templates import get, new_month
from kpi_xl.workbook.refresh import refresh_file

DEMO_TEMPLATE = "taobao-cs"
DEMO_MONTH = "2026-11"
DEMO_HISTORY = 6


def run_demo(out_dir: str | os.PathLike[str] = "out", template: str = DEMO_TEMPLATE,
             month: str = DEMO_MONTH) -> tuple[Path, PayrollResult]:
    """Build the sample month in ``out_dir`` and refresh it; returns the path and result."""
    path = Path(out_dir) / f"demo-{template}-{month}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".bak")):
        stale.unlink(missing_ok=True)
    new_month(template, path, month=month, sample=True, history_months=DEMO_HISTORY)
    return path, refresh_file(path)


def summary_table(result: PayrollResult) -> list[str]:
    """The short summary: agents and pay by grade, the total, the flags."""
    by_grade: dict[str, list[object]] = {g.label: [0, 0] for g in get(result.template_id).grades}
    for agent in result.agents:
        entry = by_grade.setdefault(str(agent.grade), [0, 0])
        entry[0] += 1  # type: ignore[operator]
        if agent.net is not None:
            entry[1] += agent.net  # type: ignore[operator]
    lines = [f"{'等级':<8}{'人数':>6}{'应发工资合计':>16}"]
    for grade, (count, total) in by_grade.items():
        lines.append(f"{grade:<8}{count:>8}{total:>18,.2f}")
    lines.append(f"{'合计':<8}{len(result.agents):>8}{result.total:>18,.2f}")
    flags = result.flag_counts()
    shown = ", ".join(f"{flag} {count}" for flag, count in flags.most_common())
    lines.append(f"标记 (flags): {shown or '无'}")
    lines.append(f"异常 (issues): {result.issues} 条; 待核 (on hold): {result.on_hold} 人")
    return lines
