"""Large, deterministic taobao-cs (S1) months for the refresh benchmarks, written two ways.

* :func:`write_kpi_month` — the month as kpi_xl's own template makes it (``KPI_TIER``,
  ``KPI_SCORE``, ``KPI_SHARE`` … formulas, every sheet of the template). The template caps
  ``new_month`` at its ``capacity`` (200 rows) and builds through openpyxl, which would take
  minutes and gigabytes at 100,000 rows; so the workbook is built by the template machinery
  (:func:`kpi_xl.templates.builder.build_workbook`) for a copy of the description with two
  formula rows, and the two sheets that grow with the roster (员工, 考核) are then written as
  sheet XML directly, with each formula expanded by :func:`~kpi_xl.templates.builder.resolve`
  for a copy of the description whose ``capacity`` is the number of agents — the same text
  ``new_month`` would write for that capacity.
* :func:`write_plain_month` — the SAME inputs with plain Excel formulas, as an experienced
  Excel user would write the S1 sheet without kpi_xl (``shared/seed-catalogue.md`` S1, written
  out by hand here, not read from kpi_xl): tiers by ``LOOKUP`` on sorted thresholds, the
  lower-is-better response time by ``_xlfn.IFS``, 执行力 by ``INDEX``/``MATCH``, the weighted
  score by ``SUMPRODUCT``, the grade by ``LOOKUP``, a 团队 table of ``SUMIF`` sums and pools,
  each agent's 团队超额奖金 as ``ROUND(pool × sales / team sales, 2)``, and the 20 % cap on
  扣款 with ``MIN`` and ``ROUNDDOWN`` (the law: never above 20%).

The inputs come from :func:`generate` (numpy, fixed seed): clean values in every tier of every
S1 rule, with a few percent placed exactly on tier bounds, teams of 25, a team target for the
first team (the others use the sum of their plans), occasional 差评, absences and losses (some
above the 20 % cap). Generation is not part of any measurement.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from openpyxl.utils import get_column_letter

from kpi_xl.templates import get
from kpi_xl.templates.builder import build_workbook, resolve, roster_inputs, to_bytes
from kpi_xl.templates.layout import FIRST_ROW
from kpi_xl.templates.sample import GIVEN, SURNAMES
from kpi_xl.workbook.ooxml import map_package

TEMPLATE_ID = "taobao-cs"
TEAM_SIZE = 25
DEFAULT_SEED = 20261101
PROTOTYPE_ROWS = 2
"""Formula rows of the openpyxl-built skeleton (its row styles are copied to every row)."""
ROW_MARK = 1_048_577
"""A row number no worksheet has (Excel's last row + 1): formulas are resolved once with it
and the real row number is substituted per row."""

# ---- the S1 rules, by hand from shared/seed-catalogue.md (independent of kpi_xl's parser)

COMPLETION = ((0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), (0, 10, 25, 40, 55, 70, 85, 100))
CONVERSION = ((0.0, 0.4, 0.45, 0.5), (0, 60, 80, 100))
AOV = ((0.0, 210.0, 230.0, 250.0), (0, 60, 80, 100))
REPLY = ((0.0, 0.92, 0.95, 0.98), (0, 60, 80, 100))
RESPONSE = ((30.0, 45.0, 55.0), (100, 80, 60, 0))
"""Lower is better, right-closed: ≤30:100; (30,45]:80; (45,55]:60; >55:0."""
ASSIST = ((0.0, 20_000.0, 30_000.0, 40_000.0), (0, 60, 80, 100))
EXECUTION = (("非常满意", "比较满意", "一般", "不满意"), (100, 90, 60, 0))
SATISFACTION = ((0.0, 0.85, 0.9, 0.95), (0, 60, 80, 100))
WEIGHTS = (0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.1, 0.1)
GRADES = ((0.0, 70.0, 80.0, 90.0), ("不合格", "初级客服", "中级客服", "高级客服"), (0, 0, 200, 400))
BAD_REVIEW_POINTS = 50
SALARY, MEAL, ATTENDANCE_BONUS, TEAM_RATE, DEDUCTION_CAP = 1280, 150, 100, 0.01, 0.2


@dataclass
class MonthData:
    """One month's inputs, one entry per agent, in 考核 column order (None = blank cell)."""

    month: str
    ids: list[str]
    names: list[str]
    teams: list[str]
    posts: list[str]
    wangwang: list[str]
    columns: dict[str, list[object]]
    """考核 input key → cells (``id``, ``name``, ``team`` included)."""
    team_targets: dict[str, float]
    """团队目标销售额 rows of 规则 (the other teams' target is the sum of their plans)."""

    @property
    def agents(self) -> int:
        return len(self.ids)

    @property
    def team_names(self) -> list[str]:
        return list(dict.fromkeys(self.teams))


def _tiered(rng: np.random.Generator, n: int, spans: Sequence[tuple[float, float]],
            weights: Sequence[float], step: float) -> np.ndarray:
    """Per agent a tier drawn by ``weights``, then a value on a ``step`` grid inside its span."""
    tiers = rng.choice(len(spans), size=n, p=np.asarray(weights) / sum(weights))
    low = np.array([s[0] for s in spans])[tiers]
    high = np.array([s[1] for s in spans])[tiers]
    steps = np.floor((high - low) / step + 1e-9).astype(np.int64)
    return np.round(low + step * np.floor(rng.random(n) * (steps + 1)), 6)


def _on_bounds(rng: np.random.Generator, values: np.ndarray, bounds: Sequence[float],
               share: float = 0.03) -> np.ndarray:
    """Put ``share`` of the values exactly on a tier bound (the edge cases of each rule)."""
    hit = rng.random(values.shape[0]) < share
    values = values.copy()
    values[hit] = rng.choice(np.asarray(bounds, dtype=float), size=int(hit.sum()))
    return values


def generate(agents: int, seed: int = DEFAULT_SEED, month: str = "2026-11") -> MonthData:
    """A clean S1 month of ``agents`` agents; same arguments → same data."""
    rng = np.random.default_rng(seed)
    n = agents
    index = np.arange(n)
    team_of = index // TEAM_SIZE
    teams = [f"售前{t + 1}组" for t in team_of]
    first_of_team = np.r_[True, team_of[1:] != team_of[:-1]]
    names = [SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
             for i in rng.permutation(n)]
    plan = rng.integers(60, 201, n) * 1000.0
    spans = ((1.005, 1.25), (0.905, 0.995), (0.805, 0.895), (0.705, 0.795), (0.605, 0.695),
             (0.505, 0.595), (0.405, 0.495), (0.2, 0.395))
    strong = (rng.random(team_of[-1] + 1) < 0.5)[team_of]  # half the teams beat their plan
    completion = np.where(strong, _tiered(rng, n, spans, (40, 6, 2, 1, 1, 1, 1, 1), 0.001),
                          _tiered(rng, n, spans, (10, 8, 4, 2, 1, 1, 1, 1), 0.001))
    completion = _on_bounds(rng, completion, COMPLETION[0][1:])
    actual = np.round(plan * completion, 2)
    aov = _tiered(rng, n, ((255, 320), (234, 246), (214, 226), (165, 205)), (6, 4, 2, 1), 0.1)
    orders = np.maximum(1, np.round(actual / aov))
    conversion = _tiered(rng, n, ((0.505, 0.62), (0.455, 0.495), (0.405, 0.445), (0.28, 0.395)),
                         (6, 5, 2, 1), 0.001)
    consults = np.maximum(orders, np.round(orders / conversion))
    received = rng.integers(400, 1501, n).astype(float)
    reply = _tiered(rng, n, ((0.982, 1.0), (0.952, 0.978), (0.922, 0.948), (0.85, 0.915)),
                    (8, 4, 2, 1), 0.001)
    replied = np.minimum(received, np.round(received * reply))
    response = _on_bounds(rng, _tiered(rng, n, ((12.0, 29.5), (30.5, 44.5), (45.5, 54.5),
                                                (55.5, 75.0)), (8, 4, 2, 1), 0.1), RESPONSE[0])
    assist = _on_bounds(rng, _tiered(rng, n, ((40_500, 68_000), (30_500, 39_500),
                                              (20_500, 29_500), (5_000, 19_500)),
                                     (4, 4, 2, 1), 1.0), ASSIST[0][1:])
    execution = rng.choice(len(EXECUTION[0]), size=n, p=np.array([5, 6, 2, 1]) / 14)
    satisfaction = _on_bounds(rng, _tiered(rng, n, ((0.952, 0.995), (0.902, 0.948),
                                                    (0.852, 0.898), (0.72, 0.845)),
                                           (6, 4, 2, 1), 0.001), SATISFACTION[0][1:])
    bad_reviews = rng.choice(3, size=n, p=(0.975, 0.02, 0.005)).astype(float)
    absent = rng.random(n) < 1 / 7
    loss_draw = rng.random(n)
    loss = np.where(loss_draw < 0.01, 150.0, np.where(loss_draw < 0.013, 2000.0, np.nan))

    def ready(every: int, numerator: np.ndarray, denominator: np.ndarray,
              digits: int) -> list[object]:
        ratio = np.round(numerator / denominator, digits)
        return [float(ratio[i]) if i % every == 0 else None for i in range(n)]

    def cells(values: np.ndarray) -> list[object]:
        return [None if np.isnan(v) else float(v) for v in values]

    ids = [f"KF{i + 1:06d}" for i in range(n)]
    columns: dict[str, list[object]] = {
        "id": ids, "name": names, "team": teams,
        "plan": cells(plan), "actual": cells(actual), "consults": cells(consults),
        "orders": cells(orders), "conversion_in": ready(5, orders, consults, 4),
        "aov_in": ready(7, actual, orders, 2), "received": cells(received),
        "replied": cells(replied), "reply_in": ready(6, replied, received, 4),
        "response": cells(response), "assist": cells(assist),
        "execution": [EXECUTION[0][k] for k in execution], "satisfaction": cells(satisfaction),
        "bad_reviews": cells(bad_reviews), "full_attendance": ["否" if a else "是" for a in absent],
        "loss": cells(loss),
    }
    first_team = team_of == 0
    targets = {teams[0]: float(round(plan[first_team].sum() * 0.9, -3))}
    posts = ["客服组长" if first else "售前客服" for first in first_of_team]
    shop = get(TEMPLATE_ID).shop
    wangwang = [f"{shop}:客服{i + 1}" for i in range(n)]
    return MonthData(month, ids, names, teams, posts, wangwang, columns, targets)


# --------------------------------------------------------------------------------------------
# sheet XML


def cell_xml(ref: str, value: object, style: str | None = None) -> str:
    """One ``<c>``: a number, inline text, a formula (text starting ``=``) or a blank."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, str):
        if value.startswith("="):
            return f'<c r="{ref}"{s}><f>{escape(value[1:])}</f></c>'
        return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    number = float(value)  # type: ignore[arg-type]
    text = str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return f'<c r="{ref}"{s}><v>{text}</v></c>'


def rows_xml(first_row: int, columns: Sequence[Sequence[str]]) -> Iterable[str]:
    """``<row>`` elements from per-column lists of ready ``<c>`` strings (same length)."""
    for offset, cells in enumerate(zip(*columns, strict=True)):
        yield f'<row r="{first_row + offset}">{"".join(cells)}</row>'


def column_cells(letter: str, first_row: int, values: Sequence[object],
                 style: str | None = None) -> list[str]:
    """The ``<c>`` strings of one column, from ``first_row`` down."""
    return [cell_xml(f"{letter}{first_row + i}", value, style) for i, value in enumerate(values)]


def formula_cells(letter: str, first_row: int, count: int, formula: str,
                  style: str | None = None) -> list[str]:
    """``count`` formula cells; ``formula`` holds :data:`ROW_MARK` where the row goes."""
    parts = escape(formula.removeprefix("=")).split(str(ROW_MARK))
    s = f' s="{style}"' if style else ""
    return [f'<c r="{letter}{row}"{s}><f>{str(row).join(parts)}</f></c>'
            for row in range(first_row, first_row + count)]


# --------------------------------------------------------------------------------------------
# the kpi_xl template month

_ROW_RE = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_CELL_STYLE_RE = re.compile(r'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?')
_REF_ATTR_RE = re.compile(r'\b(sqref|ref)="([^"]*)"')


def _style_of_row(sheet_xml: str, row: int) -> dict[str, str]:
    """Column letter → style index of the cells of ``row`` in a sheet's XML."""
    return {m.group(1): m.group(3) for m in _CELL_STYLE_RE.finditer(sheet_xml)
            if int(m.group(2)) == row and m.group(3)}


def _stretch_refs(xml: str, old_last: int, new_last: int) -> str:
    """Ranges in ``ref``/``sqref`` attributes that end on ``old_last`` end on ``new_last``."""
    def one(match: re.Match[str]) -> str:
        ranges = [re.sub(rf"^([A-Z]+\d+:[A-Z]+){old_last}$", rf"\g<1>{new_last}", part)
                  for part in match.group(2).split()]
        return f'{match.group(1)}="{" ".join(ranges)}"'

    return _REF_ATTR_RE.sub(one, xml)


def _replace_rows(sheet_xml: str, rows: Iterable[str], old_last: int, new_last: int) -> bytes:
    """The sheet with every row from :data:`FIRST_ROW` on replaced by ``rows``."""
    head, rest = sheet_xml.split("<sheetData>", 1)
    body, tail = rest.split("</sheetData>", 1)
    kept = [m.group(0) for m in _ROW_RE.finditer(body) if int(m.group(1)) < FIRST_ROW]
    out = io.StringIO()
    out.write(_stretch_refs(head, old_last, new_last))
    out.write("<sheetData>")
    out.writelines(kept)
    out.writelines(rows)
    out.write("</sheetData>")
    out.write(_stretch_refs(tail, old_last, new_last))
    return out.getvalue().encode("utf-8")


def write_kpi_month(data: MonthData, path: Path) -> Path:
    """The month as ``kpi-xl new taobao-cs`` would make it for ``data.agents`` rows, filled."""
    spec = get(TEMPLATE_ID)
    small = dataclasses.replace(spec, capacity=PROTOTYPE_ROWS)
    wb, layout = build_workbook(small, data.month)
    rules = wb["规则"]
    col0, first, last = layout.table_cells["team_target"]
    if len(data.team_targets) > last - first + 1:
        raise ValueError("more team targets than rows in the 团队目标销售额 table")
    for i, (team, target) in enumerate(data.team_targets.items()):
        rules.cell(first + i, col0, team)
        rules.cell(first + i, col0 + 1, target)
    for param in spec.params:
        if param.value is None and param.sample_value is not None:
            rules.cell(layout.param_rows[param.key], 3, param.sample_value)
    skeleton = to_bytes(wb, f"{data.month}-01T00:00:00Z")

    n = data.agents
    big_layout = dataclasses.replace(layout, template=dataclasses.replace(spec, capacity=n))
    old_last, new_last = FIRST_ROW + PROTOTYPE_ROWS - 1, FIRST_ROW + n - 1
    with zipfile.ZipFile(io.BytesIO(skeleton)) as zf:
        parts = {sheet.name: sheet.part for sheet in map_package(zf).sheets}
        entries = [(info, zf.read(info.filename)) for info in zf.infolist()]
    roster_part, sheet_part = parts["员工"], parts["考核"]
    fixed = {"id": data.ids, "name": data.names, "team": data.teams, "post": data.posts,
             "wangwang": data.wangwang}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst:
        for info, body in entries:
            if info.filename == roster_part:
                xml = body.decode("utf-8")
                styles = _style_of_row(xml, FIRST_ROW)
                columns = []
                for col, spec_in in enumerate(roster_inputs(spec), start=1):
                    letter = get_column_letter(col)
                    values = fixed.get(spec_in.key) or data.columns[spec_in.key]
                    columns.append(column_cells(letter, FIRST_ROW, values, styles.get(letter)))
                body = _replace_rows(xml, rows_xml(FIRST_ROW, columns), old_last, new_last)
            elif info.filename == sheet_part:
                body = _assessment_xml(body.decode("utf-8"), data, big_layout, old_last,
                                       new_last)
            elif info.filename == "xl/workbook.xml":
                body = re.sub(rf"('(?:考核|员工)'!\$[A-Z]+\$\d+:\$[A-Z]+\$){old_last}<",
                              rf"\g<1>{new_last}<", body.decode("utf-8")).encode("utf-8")
            dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    path.write_bytes(out.getvalue())
    return path


def _assessment_xml(xml: str, data: MonthData, layout: object, old_last: int,
                    new_last: int) -> bytes:
    """考核: the inputs, then every formula column for ``data.agents`` rows."""
    template = layout.template  # type: ignore[attr-defined]
    styles = _style_of_row(xml, FIRST_ROW)
    n = data.agents
    columns: list[list[str]] = []
    for spec in template.inputs:
        letter = layout.columns[spec.key]  # type: ignore[attr-defined]
        columns.append(column_cells(letter, FIRST_ROW, data.columns[spec.key],
                                    styles.get(letter)))
    for _, calc in template.sheet_calcs():
        letter = layout.columns[calc.key]  # type: ignore[attr-defined]
        style = styles.get(letter)
        s = f' s="{style}"' if style else ""
        if calc.array:
            text = escape(resolve(calc.formula, layout, FIRST_ROW))  # type: ignore[arg-type]
            top = (f'<c r="{letter}{FIRST_ROW}"{s}><f t="array" '
                   f'ref="{letter}{FIRST_ROW}:{letter}{new_last}">{text}</f></c>')
            columns.append([top] + [f'<c r="{letter}{row}"{s}/>'
                                    for row in range(FIRST_ROW + 1, new_last + 1)])
            continue
        body = resolve(calc.formula, layout, ROW_MARK)  # type: ignore[arg-type]
        if calc.guard:
            body = f'IF($A{ROW_MARK}="","",{body})'
        columns.append(formula_cells(letter, FIRST_ROW, n, body, style))
    return _replace_rows(xml, rows_xml(FIRST_ROW, columns), old_last, new_last)


# --------------------------------------------------------------------------------------------
# the same month with plain Excel formulas

INPUT_KEYS = ("id", "name", "team", "plan", "actual", "consults", "orders", "conversion_in",
              "aov_in", "received", "replied", "reply_in", "response", "assist", "execution",
              "satisfaction", "bad_reviews", "full_attendance", "loss")
"""考核 columns A–S, as in the template."""
PLAIN_HEADERS = ("工号", "姓名", "团队", "计划销售额", "实际销售额", "咨询人数", "最终下单人数",
                 "询单转化率(可直接填)", "客单价(可直接填)", "总接待客户数", "回复过的旺旺数",
                 "回复率(可直接填)", "平均响应时间(秒)", "协助跟进服务金额", "执行力", "满意度",
                 "差评数", "全勤(是/否)", "扣款(赔偿损失)",
                 "成交额完成度", "询单转化率", "客单价", "旺旺回复率",
                 "成交额完成度得分", "询单转化率得分", "客单价得分", "旺旺回复率得分",
                 "旺旺响应时间得分", "协助跟进服务得分", "执行力得分", "满意度得分", "差评扣分",
                 "KPI得分", "等级", "薪资", "岗位奖金", "餐补", "全勤奖", "团队超额奖金",
                 "工资合计", "扣款", "应发工资")
"""考核 of the plain workbook: the template's columns A–AM (团队超额奖金池 lives on 团队), then
工资合计, 扣款, 应发工资 (the template's refresh writes those to 工资)."""
PLAIN_COLUMNS = {header: get_column_letter(i) for i, header in enumerate(PLAIN_HEADERS, 1)}

R = "规则!"


@dataclass(frozen=True)
class PlainRules:
    """规则 of the plain workbook: its cells, and where each table and parameter sits."""

    grid: list[list[object]]
    tables: dict[str, tuple[str, str]]
    """Table title → (bounds or labels range, points range), absolute on 规则."""
    cells: dict[str, str]
    """Parameter or row label → absolute reference on 规则."""


def plain_rules() -> PlainRules:
    """规则 of the plain workbook: the S1 tier tables side by side (rows 2–10), the weights on
    row 14, the grade table in Q–S and the pay parameters in A16:B21."""
    grid: list[list[object]] = [[None] * 19 for _ in range(21)]
    grid[0][0] = "规则 (S1 淘宝客服员工KPI绩效考核表; 档位按下限升序排列, 供 LOOKUP 使用)"
    blocks = (("A", "成交额完成度", COMPLETION), ("C", "询单转化率", CONVERSION),
              ("E", "客单价", AOV), ("G", "旺旺回复率", REPLY), ("I", "响应时间上限(秒)", RESPONSE),
              ("K", "协助跟进服务", ASSIST), ("M", "执行力", EXECUTION),
              ("O", "满意度", SATISFACTION))
    tables: dict[str, tuple[str, str]] = {}
    for letter, title, (bounds, points) in blocks:
        c = ord(letter) - ord("A")
        nxt = chr(ord(letter) + 1)
        grid[1][c], grid[1][c + 1] = title, "得分"
        for i, bound in enumerate(bounds):
            grid[2 + i][c] = bound
        for i, value in enumerate(points):
            grid[2 + i][c + 1] = value
        tables[title] = (f"{R}${letter}$3:${letter}${2 + len(bounds)}",
                         f"{R}${nxt}$3:${nxt}${2 + len(points)}")
    grid[1][16], grid[1][17], grid[1][18] = "等级下限", "等级", "岗位奖金"
    for i, (low, label, bonus) in enumerate(zip(*GRADES, strict=True)):
        grid[2 + i][16], grid[2 + i][17], grid[2 + i][18] = low, label, bonus
    grid[13][0] = "权重"
    for j, weight in enumerate(WEIGHTS):
        grid[13][1 + j] = weight
    cells = {"权重": f"{R}$B$14:$I$14", "等级下限": f"{R}$Q$3:$Q$6", "等级": f"{R}$R$3:$R$6",
             "岗位奖金": f"{R}$S$3:$S$6"}
    params = (("差评扣分", BAD_REVIEW_POINTS), ("薪资", SALARY), ("餐补", MEAL),
              ("全勤奖", ATTENDANCE_BONUS), ("团队超额比例", TEAM_RATE),
              ("扣款上限", DEDUCTION_CAP))
    for i, (label, value) in enumerate(params):
        grid[15 + i][0], grid[15 + i][1] = label, value
        cells[label] = f"{R}$B${16 + i}"
    return PlainRules(grid, tables, cells)


def plain_formulas(last_team_row: int) -> dict[str, str]:
    """考核 formula columns of the plain workbook by header (row = :data:`ROW_MARK`)."""
    rules = plain_rules()
    n = rules.cells
    c = {h: f"{letter}{ROW_MARK}" for h, letter in PLAIN_COLUMNS.items()}

    def lookup(value: str, table: str) -> str:
        bounds, points = rules.tables[table]
        return f"LOOKUP({value},{bounds},{points})"

    up_cells = [f"{R}$I${3 + i}" for i in range(len(RESPONSE[0]))]
    pt_cells = [f"{R}$J${3 + i}" for i in range(len(RESPONSE[1]))]
    response = ("_xlfn.IFS(" + ",".join(f"{c['平均响应时间(秒)']}<={u},{p}"
                                         for u, p in zip(up_cells, pt_cells, strict=False))
                + f",TRUE,{pt_cells[-1]})")
    labels, label_points = rules.tables["执行力"]
    team = f"团队!$A$2:$F${last_team_row}"
    points = f"{c['成交额完成度得分']}:{c['满意度得分']}"
    return {
        "成交额完成度": f"={c['实际销售额']}/{c['计划销售额']}",
        "询单转化率": (f'=IF({c["询单转化率(可直接填)"]}="",{c["最终下单人数"]}/{c["咨询人数"]},'
                       f'{c["询单转化率(可直接填)"]})'),
        "客单价": (f'=IF({c["客单价(可直接填)"]}="",{c["实际销售额"]}/{c["最终下单人数"]},'
                   f'{c["客单价(可直接填)"]})'),
        "旺旺回复率": (f'=IF({c["回复率(可直接填)"]}="",{c["回复过的旺旺数"]}/{c["总接待客户数"]},'
                       f'{c["回复率(可直接填)"]})'),
        "成交额完成度得分": "=" + lookup(c["成交额完成度"], "成交额完成度"),
        "询单转化率得分": "=" + lookup(c["询单转化率"], "询单转化率"),
        "客单价得分": "=" + lookup(c["客单价"], "客单价"),
        "旺旺回复率得分": "=" + lookup(c["旺旺回复率"], "旺旺回复率"),
        "旺旺响应时间得分": "=" + response,
        "协助跟进服务得分": "=" + lookup(c["协助跟进服务金额"], "协助跟进服务"),
        "执行力得分": f"=INDEX({label_points},MATCH({c['执行力']},{labels},0))",
        "满意度得分": "=" + lookup(c["满意度"], "满意度"),
        "差评扣分": f"=-{c['差评数']}*{n['差评扣分']}",
        "KPI得分": f"=MAX(0,SUMPRODUCT({points},{n['权重']})+{c['差评扣分']})",
        "等级": f"=LOOKUP({c['KPI得分']},{n['等级下限']},{n['等级']})",
        "薪资": f"={n['薪资']}",
        "岗位奖金": f"=INDEX({n['岗位奖金']},MATCH({c['等级']},{n['等级']},0))",
        "餐补": f"={n['餐补']}",
        "全勤奖": f'=IF({c["全勤(是/否)"]}="是",{n["全勤奖"]},0)',
        "团队超额奖金": (f"=ROUND(VLOOKUP({c['团队']},{team},6,FALSE)*{c['实际销售额']}"
                         f"/VLOOKUP({c['团队']},{team},3,FALSE),2)"),
        "工资合计": f"=SUM({c['薪资']}:{c['团队超额奖金']})",
        "扣款": (f'=IF({c["扣款(赔偿损失)"]}="",0,MIN({c["扣款(赔偿损失)"]},'
                 f'ROUNDDOWN({c["工资合计"]}*{n["扣款上限"]},2)))'),
        "应发工资": f"={c['工资合计']}-{c['扣款']}",
    }


def write_plain_month(data: MonthData, path: Path) -> Path:
    """The same month as a plain-formula workbook (sheets 规则, 团队, 考核)."""
    n = data.agents
    last = FIRST_ROW + n - 1
    teams = data.team_names
    last_team_row = 1 + len(teams)

    rules = plain_rules()
    rules_rows = []
    for r, row in enumerate(rules.grid, start=1):
        cells = "".join(cell_xml(f"{get_column_letter(j + 1)}{r}", v) for j, v in enumerate(row))
        rules_rows.append(f'<row r="{r}">{cells}</row>')

    col = PLAIN_COLUMNS
    rng_team = f"考核!${col['团队']}${FIRST_ROW}:${col['团队']}${last}"
    rng_actual = f"考核!${col['实际销售额']}${FIRST_ROW}:${col['实际销售额']}${last}"
    rng_plan = f"考核!${col['计划销售额']}${FIRST_ROW}:${col['计划销售额']}${last}"
    team_headers = ("团队", "团队目标销售额(可填)", "团队实际销售额", "团队计划销售额", "团队目标",
                    "团队超额奖金池")
    team_columns = [
        column_cells("A", 1, [team_headers[0], *teams]),
        column_cells("B", 1, [team_headers[1], *(data.team_targets.get(t) for t in teams)]),
        [cell_xml("C1", team_headers[2]),
         *formula_cells("C", 2, len(teams), f"=SUMIF({rng_team},A{ROW_MARK},{rng_actual})")],
        [cell_xml("D1", team_headers[3]),
         *formula_cells("D", 2, len(teams), f"=SUMIF({rng_team},A{ROW_MARK},{rng_plan})")],
        [cell_xml("E1", team_headers[4]),
         *formula_cells("E", 2, len(teams), f"=IF(N(B{ROW_MARK})>0,B{ROW_MARK},D{ROW_MARK})")],
        [cell_xml("F1", team_headers[5]),
         *formula_cells("F", 2, len(teams),
                        f"=ROUND({rules.cells['团队超额比例']}*MAX(0,C{ROW_MARK}-E{ROW_MARK}),2)")],
    ]

    formulas = plain_formulas(last_team_row)
    columns = []
    for key, header in zip(INPUT_KEYS, PLAIN_HEADERS, strict=False):
        columns.append(column_cells(col[header], FIRST_ROW, data.columns[key]))
    for header in PLAIN_HEADERS[len(INPUT_KEYS):]:
        columns.append(formula_cells(col[header], FIRST_ROW, n, formulas[header]))
    head_cells = "".join(cell_xml(f"{col[h]}4", h) for h in PLAIN_HEADERS)
    assessment_head = [f'<row r="1">{cell_xml("A1", "淘宝客服员工KPI绩效考核表 (普通公式)")}</row>',
                       f'<row r="2">{cell_xml("A2", "考核月份")}{cell_xml("B2", data.month)}</row>',
                       f'<row r="4">{head_cells}</row>']
    sheets = (("规则", rules_rows), ("团队", list(rows_xml(1, team_columns))),
              ("考核", [*assessment_head, *rows_xml(FIRST_ROW, columns)]))
    write_package(path, sheets)
    return path


# --------------------------------------------------------------------------------------------
# a minimal package

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_STYLES = (f'<styleSheet xmlns="{_NS}"><fonts count="1"><font><sz val="11"/><name val="等线"/>'
           '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill>'
           '<patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/>'
           '<right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf '
           'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1">'
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def write_package(path: Path, sheets: Sequence[tuple[str, Sequence[str]]]) -> None:
    """An .xlsx of the given sheets (name, ``<row>`` strings), no cached values."""
    ct_sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{ct_sheets}</Types>")
    root_rels = (f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{_REL_NS}/'
                 'officeDocument" Target="xl/workbook.xml"/></Relationships>')
    sheet_entries = "".join(f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
                            for i, (name, _) in enumerate(sheets, start=1))
    workbook = (f'<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}"><sheets>{sheet_entries}</sheets>'
                '<calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>')
    wb_rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" '
                      f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
    wb_rels = (f'<Relationships xmlns="{_PKG_REL}">{wb_rels}<Relationship Id="rId0" '
               f'Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("[Content_Types].xml", content_types)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        zf.writestr("xl/styles.xml", _STYLES)
        for i, (_, rows) in enumerate(sheets, start=1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w") as stream:
                stream.write(f'<worksheet xmlns="{_NS}"><sheetData>'.encode())
                for row in rows:
                    stream.write(row.encode("utf-8"))
                stream.write(b"</sheetData></worksheet>")
