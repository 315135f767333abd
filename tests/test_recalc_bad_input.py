"""Bad input is an error, never a 0: ``kpi-xl recalc`` on a taobao-cs sample month with
text in a number column, a typo in a rule on 规则, and weights totalling 95%.

For each problem the command must exit non-zero, list it as ``sheet!cell: message`` at the
right cell with a message saying what is wrong, and store an error value (``t="e"``, e.g.
``#VALUE!``) in the affected cells of the saved file — while agents and items the problem does
not touch keep their numbers. Columns are found by their header text (考核 row 4, 规则 row 4),
never by letter.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from kpi_xl import cli
from kpi_xl.templates import new_month
from kpi_xl.workbook.ooxml import map_package
from kpi_xl.workbook.xlsx import XlsxEditor, read_book

HEADER_ROW, FIRST_ROW = 4, 5
BAD_AGENT = 2
"""Index (0-based) of the agent whose 实际销售额 gets the text "十万"."""
TEXT_VALUE = "十万"
TYPO_TIER = "≥5O%:100"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
LINE = re.compile(r"^(?P<sheet>[^!\s]+)!(?P<cell>[A-Z]+[0-9]+): (?P<message>.+)$")

Cell = tuple[int, int]


@dataclass(frozen=True)
class Stored:
    """A cell as the saved sheet XML holds it: its ``t`` attribute and ``<v>`` text."""

    t: str | None
    v: str | None

    @property
    def is_number(self) -> bool:
        return self.t in (None, "n") and self.v is not None

    def number(self) -> float:
        assert self.is_number, self
        return float(self.v or "nan")


@dataclass
class Month:
    """A sample month on disk and where things are in it (found by header text)."""

    path: Path
    columns: dict[str, int]
    """考核 header → column number."""
    agent_rows: list[int]
    rules: dict[str, int]
    """规则 header → column number."""
    item_rows: dict[str, int]
    """规则 item label (as in 考核项目, symbol and arrow stripped) → row."""
    weights_total_row: int
    """规则 row of 权重合计 (a SUM of the weights)."""

    def cell(self, header: str, row: int) -> str:
        return f"{get_column_letter(self.columns[header])}{row}"


def make_month(path: Path) -> Month:
    new_month("taobao-cs", path, sample=True)
    book = read_book(path)
    sheet = book.sheets["考核"]
    columns = {str(v).strip(): c for (r, c), v in sheet.values.items()
               if r == HEADER_ROW and v not in (None, "")}
    id_col = columns["工号"]
    agent_rows = sorted(r for (r, c), v in sheet.values.items()
                        if c == id_col and r >= FIRST_ROW and v not in (None, ""))
    rules_sheet = book.sheets["规则"]
    rules = {str(v).strip(): c for (r, c), v in rules_sheet.values.items()
             if r == HEADER_ROW and v not in (None, "")}
    item_col, number_col = rules["考核项目"], rules["序号"]
    numbered = {r for (r, c), v in rules_sheet.values.items()
                if c == number_col and r > HEADER_ROW and isinstance(v, float)}
    item_rows = {re.split(r"[(（ ]", str(v), maxsplit=1)[0]: r
                 for (r, c), v in rules_sheet.values.items() if c == item_col and r in numbered}
    total_row = next(r for (r, c), v in rules_sheet.values.items()
                     if c == item_col and str(v).startswith("权重合计"))
    return Month(path, columns, agent_rows, rules, item_rows, total_row)


def rule_column(month: Month) -> int:
    return next(c for header, c in month.rules.items() if header.startswith("标准"))


def put_text_in_number_column(month: Month) -> Cell:
    """实际销售额 of one agent = "十万"; returns that cell."""
    cell = (month.agent_rows[BAD_AGENT], month.columns["实际销售额"])
    editor = XlsxEditor(month.path)
    editor.set_cells("考核", {cell: TEXT_VALUE})
    editor.save(backup=False)
    return cell


def put_typo_in_rule(month: Month) -> Cell:
    """The first tier of the 询单转化率 rule becomes ``≥5O%:100`` (letter O for zero)."""
    cell = (month.item_rows["询单转化率"], rule_column(month))
    text = read_book(month.path).sheets["规则"].values[cell]
    tiers = re.split(r"\s*[;；]\s*", str(text))
    assert tiers[0].endswith("≥50%:100"), text
    editor = XlsxEditor(month.path)
    editor.set_cells("规则", {cell: "; ".join([TYPO_TIER, *tiers[1:]])})
    editor.save(backup=False)
    return cell


def make_weights_total_95(month: Month) -> Cell:
    """The 客单价 weight drops by 5 points, so the weights total 95%."""
    rules = read_book(month.path).sheets["规则"]
    weight_col = month.rules["权重"]
    weights = [v for (r, c), v in rules.values.items()
               if c == weight_col and r in month.item_rows.values() and isinstance(v, float)]
    assert sum(weights) == pytest.approx(1.0)
    cell = (month.item_rows["客单价"], weight_col)
    editor = XlsxEditor(month.path)
    editor.set_cells("规则", {cell: rules.values[cell] - 0.05})
    editor.save(backup=False)
    return cell


def stored_cells(path: Path, sheet: str) -> dict[Cell, Stored]:
    """Every ``<c>`` of ``sheet`` in the saved file, straight from the XML."""
    with zipfile.ZipFile(path) as zf:
        part = next(s.part for s in map_package(zf).sheets if s.name == sheet)
        root = etree.fromstring(zf.read(part))
    out: dict[Cell, Stored] = {}
    for c in root.iter(f"{{{MAIN_NS}}}c"):
        letters, row = coordinate_from_string(c.get("r"))
        v = c.find(f"{{{MAIN_NS}}}v")
        out[(row, column_index_from_string(letters))] = Stored(c.get("t"),
                                                              None if v is None else v.text)
    return out


def problems(stderr: str) -> dict[tuple[str, str], str]:
    """``sheet!cell: message`` lines → {(sheet, cell): message}; every line must parse."""
    found: dict[tuple[str, str], str] = {}
    for line in stderr.splitlines():
        if not line.strip():
            continue
        match = LINE.match(line)
        assert match, f"not a (sheet, cell, message) line: {line!r}"
        found[(match["sheet"], match["cell"])] = match["message"]
    return found


def run_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, dict]:
    """``kpi-xl recalc`` in process; returns exit code, problems, stored 考核 cells."""
    code = cli.main(["recalc", str(path)])
    captured = capsys.readouterr()
    return code, problems(captured.err), stored_cells(path, "考核")


def assert_error(stored: dict[Cell, Stored], cell: Cell, code: str = "#VALUE!") -> None:
    where = f"{get_column_letter(cell[1])}{cell[0]}"
    assert stored[cell] == Stored("e", code), f"考核!{where} holds {stored.get(cell)}"


def assert_numbers(stored: dict[Cell, Stored], cells: list[Cell]) -> None:
    for cell in cells:
        where = f"{get_column_letter(cell[1])}{cell[0]}"
        assert stored[cell].is_number, f"考核!{where} holds {stored.get(cell)}, not a number"


# --------------------------------------------------------------------------------------------


def test_text_in_number_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    month = make_month(tmp_path / "month.xlsx")
    row, _ = put_text_in_number_column(month)
    code, listed, stored = run_cli(month.path, capsys)
    assert code != 0
    col = month.columns
    for header in ("成交额完成度", "客单价"):  # both rates read 实际销售额
        assert ("考核", month.cell(header, row)) in listed
        assert_error(stored, (row, col[header]))
    for header in ("成交额完成度得分", "KPI得分", "等级"):
        assert_error(stored, (row, col[header]))
    others = [r for r in month.agent_rows if r != row]
    assert_numbers(stored, [(r, col[h]) for r in others
                            for h in ("成交额完成度", "客单价", "成交额完成度得分", "KPI得分")])
    assert all(stored[(r, col["等级"])].t == "str" and stored[(r, col["等级"])].v
               for r in others)
    assert not any(cell[1] == col["KPI得分"] and cell != ("考核", month.cell("KPI得分", row))
                   for cell in listed), "other agents' scores are not problems"


def test_text_in_number_column_message_says_not_a_number(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    month = make_month(tmp_path / "month.xlsx")
    row, _ = put_text_in_number_column(month)
    _, listed, _ = run_cli(month.path, capsys)
    message = listed[("考核", month.cell("成交额完成度", row))]
    assert TEXT_VALUE in message and "不是数字" in message, message


def test_rule_with_a_typo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    month = make_month(tmp_path / "month.xlsx")
    put_typo_in_rule(month)
    code, listed, stored = run_cli(month.path, capsys)
    assert code != 0
    col = month.columns
    for row in month.agent_rows:
        message = listed[("考核", month.cell("询单转化率得分", row))]
        assert "第 3 个字符" in message and TYPO_TIER in message and "第 1 档" in message, message
        for header in ("询单转化率得分", "KPI得分", "等级"):
            assert_error(stored, (row, col[header]))
    assert_numbers(stored, [(r, col[h]) for r in month.agent_rows
                            for h in ("询单转化率", "成交额完成度得分", "客单价得分")])


def test_weights_total_95(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    month = make_month(tmp_path / "month.xlsx")
    make_weights_total_95(month)
    code, listed, stored = run_cli(month.path, capsys)
    assert code != 0
    col = month.columns
    for row in month.agent_rows:
        message = listed[("考核", month.cell("KPI得分", row))]
        assert "权重合计 95%" in message, message
        assert_error(stored, (row, col["KPI得分"]))
        assert_error(stored, (row, col["等级"]))
    points = [h for h in col if h.endswith("得分") and h != "KPI得分"]
    assert len(points) >= 8
    assert_numbers(stored, [(r, col[h]) for r in month.agent_rows for h in points])
    total = stored_cells(month.path, "规则")[(month.weights_total_row, month.rules["权重"])]
    assert total.number() == pytest.approx(0.95)


def test_all_three_with_the_command(tmp_path: Path) -> None:
    """The three problems at once, through the real command line (a subprocess)."""
    month = make_month(tmp_path / "month.xlsx")
    text_row, _ = put_text_in_number_column(month)
    put_typo_in_rule(month)
    make_weights_total_95(month)
    done = subprocess.run([sys.executable, "-m", "kpi_xl.cli", "recalc", str(month.path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0, done.stdout
    listed = problems(done.stderr)
    col = month.columns
    assert ("考核", month.cell("成交额完成度", text_row)) in listed
    for row in month.agent_rows:
        assert "第 3 个字符" in listed[("考核", month.cell("询单转化率得分", row))]
        assert "权重合计 95%" in listed[("考核", month.cell("KPI得分", row))]
    stored = stored_cells(month.path, "考核")
    assert_error(stored, (text_row, col["成交额完成度"]))
    for row in month.agent_rows:
        for header in ("询单转化率得分", "KPI得分", "等级"):
            assert_error(stored, (row, col[header]))
    others = [r for r in month.agent_rows if r != text_row]
    assert_numbers(stored, [(r, col[h]) for r in others
                            for h in ("成交额完成度", "成交额完成度得分", "客单价得分")])
    unused = [r for r in range(month.agent_rows[-1] + 1, month.agent_rows[-1] + 4)]
    for row in unused:  # rows without an agent stay blank, not errors
        assert stored[(row, col["KPI得分"])] in (Stored("str", None), Stored("str", "")), row
    assert f"问题 {len(listed)} 个" in done.stdout
