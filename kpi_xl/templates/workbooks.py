"""Template workbooks on disk: build the committed templates and month workbooks (openpyxl).

``build_template(id)`` gives the bytes of ``workbook_templates/<id>.xlsx`` (deterministic);
``build_all(out_dir)`` writes every template; ``new_month(id, out, month=…, sample=…)`` makes a
month workbook, optionally filled with a clean, deterministic sample roster and metrics.
"""

from __future__ import annotations

import os
import random
import re
import tempfile
from pathlib import Path

from kpi_xl.templates.builder import (
    FIRST_ROW,
    build_workbook,
    normalise_zip,
    roster_inputs,
    to_bytes,
)
from kpi_xl.templates.model import Template
from kpi_xl.templates.sample import history_rows, make_agents, sample_rows
from kpi_xl.templates.specs import TEMPLATES, get

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "workbook_templates"
"""Where the committed template workbooks live (``<repo>/workbook_templates``)."""

DEFAULT_SEED = 20261101


def build_template(template_id: str) -> bytes:
    """The exact bytes of ``workbook_templates/<template_id>.xlsx``."""
    wb, _ = build_workbook(get(template_id))
    return to_bytes(wb)


def build_all(out_dir: str | os.PathLike[str] = TEMPLATE_DIR) -> list[Path]:
    """Write every template to ``out_dir/<id>.xlsx``; returns the paths in catalogue order."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for template_id in TEMPLATES:
        path = folder / f"{template_id}.xlsx"
        _write_atomic(path, build_template(template_id))
        paths.append(path)
    return paths


def new_month(template_id: str, out_path: str | os.PathLike[str], month: str = "2026-11",
              sample: bool = False, history_months: int = 0, agents: int | None = None,
              seed: int = DEFAULT_SEED, lite: bool = True) -> Path:
    """Create a month workbook from a template.

    ``sample=True`` fills 员工 and 考核 with ``agents`` (default: the template's 30) agents in a
    few teams, every tier of every item rule hit by someone; ``history_months`` adds that many
    prior months to 历史 (needs ``sample``). ``lite=True`` (default) embeds the xlwings Lite
    code generated from the installed package (:func:`kpi_xl.lite.embed_bytes`), so the month
    opens ready in Excel with xlwings Lite; the committed templates carry no code (a code change
    does not change them). Same arguments and package → same bytes.
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError(f"月份格式应为 2026-11, 收到 {month!r} (month must look like 2026-11)")
    template = get(template_id)
    if history_months and not sample:
        raise ValueError("历史月份需要示例数据: 请同时使用 --sample (history needs sample=True)")
    wb, layout = build_workbook(template, month)
    if sample:
        count = template.default_agents if agents is None else agents
        if not 1 <= count <= template.capacity:
            raise ValueError(f"人数应在 1–{template.capacity} 之间, 收到 {count}")
        _fill_sample(wb, template, layout, month, count, history_months, seed)
    stamp = f"{month}-01T00:00:00Z"
    data = to_bytes(wb, stamp)
    if lite:
        from kpi_xl.lite import embed_bytes

        data = normalise_zip(embed_bytes(data), stamp)
    path = Path(out_path)
    _write_atomic(path, data)
    return path


def _fill_sample(wb: object, template: Template, layout: object, month: str, count: int,
                 history_months: int, seed: int) -> None:
    rng = random.Random(f"{template.id}/{month}/{seed}")
    people = make_agents(template, count, rng)
    rows = sample_rows(template, people, rng)
    roster = wb["员工"]  # type: ignore[index]
    sheet = wb["考核"]  # type: ignore[index]
    for agent, row in zip(people, rows, strict=True):
        r = FIRST_ROW + agent.index
        fixed = {"id": agent.id, "name": agent.name, "team": agent.team, "post": agent.post,
                 "wangwang": agent.wangwang}
        for col, spec in enumerate(roster_inputs(template), start=1):
            roster.cell(r, col, fixed[spec.key] if spec.key in fixed else row[spec.key])
        for spec in template.inputs:
            sheet[f"{layout.columns[spec.key]}{r}"] = row[spec.key]  # type: ignore[attr-defined]
    rules = wb["规则"]  # type: ignore[index]
    for param in template.params:
        if param.value is None and param.sample_value is not None:
            rules.cell(layout.param_rows[param.key], 3, param.sample_value)  # type: ignore[attr-defined]
    for table in template.tables:
        if table.sample_rows:
            col0, first, _ = layout.table_cells[table.key]  # type: ignore[attr-defined]
            for i, values in enumerate(table.sample_rows):
                for j, value in enumerate(values):
                    rules.cell(first + i, col0 + j, value)
    if history_months:
        history = wb["历史"]  # type: ignore[index]
        for i, values in enumerate(history_rows(template, people, month, history_months, rng)):
            for j, value in enumerate(values, start=1):
                history.cell(FIRST_ROW + i, j, value)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".xlsx", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
