"""The bad-input corpus (``tests/corpus/``): every file is one real mistake; kpi-xl must react.

For EVERY corpus file the right command runs (``kpi-xl refresh`` for workbooks, ``kpi-xl import``
into the clean sample month for exports, ``kpi-xl recalc`` where a cell-by-cell listing fits)
and these hold:

* **no crash** — exit 0 or the documented 1, never a traceback (the non-zero cases also run as
  a real subprocess);
* **nothing lost** — every input cell (说明, 规则, 员工, 考核 and any renamed input sheet:
  values and formulas) is unchanged after a refresh; past months on 历史 are kept; an import
  changes exactly the cells it planned; a run that exits non-zero leaves the file byte for byte;
* **no silent 0** — every 工资 row marked 待核 has no 应发工资; agents a mistake does not touch
  get the same 工资 row as the clean month;
* **the reaction** — the message naming the cell is on 异常 (or stderr / the import report),
  the affected agents are 待核.

:data:`CASES` is the table (README.md in ``tests/corpus`` lists the same). A case whose correct
reaction kpi-xl does not give yet carries a :class:`Fix`: that part runs as a strict xfail so
the lead sees it flip when the bug is fixed, while the no-crash / nothing-lost checks still run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from kpi_xl.cli import main
from kpi_xl.core.errors import KpiError
from kpi_xl.core.history import month_number
from kpi_xl.importer import plan_import, read_export
from kpi_xl.payroll.grid import month_text_of
from kpi_xl.workbook.xlsx import read_book
from tests.payroll_util import issue_rows, sheet_rows

CORPUS = Path(__file__).resolve().parent / "corpus"
BASE = CORPUS / "base_sample.xlsx"
OUTPUT_SHEETS = frozenset({"工资", "明细", "历史", "异常", "概览"})
"""Sheets the refresh owns; every other sheet is input and must come back unchanged."""
ALL = ("KF001", "KF002", "KF003", "KF004", "KF005", "KF006", "KF007", "KF008")
TEAM_1 = ("KF001", "KF002", "KF003")
ON_HOLD = "待核"
NET = "应发工资"


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Fix:
    """What the correct reaction adds once a bug is fixed (checked as a strict xfail)."""

    bug: str
    exit_code: int | None = None
    issues: tuple[tuple[str, str, str], ...] = ()
    mentions: tuple[str, ...] = ()
    on_hold: tuple[str, ...] = ()
    same_as_base: bool = False
    pay: Mapping[tuple[str, str], object] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One corpus file and the reaction it must get.

    ``issues``: (sheet, cell regex, message fragment) that must each match an 异常 row;
    ``mentions``: fragments that must appear on stderr/stdout or an 异常 message;
    ``on_hold``: agents whose every 工资 row is 待核 without 应发工资;
    ``same_as_base``: every other agent's 工资 row equals the clean month's;
    ``pay``: (工号, header) → value expected on 工资; ``report``: import report field → count
    (lists) or value; ``recalc``: cells ``kpi-xl recalc`` must list on stderr (exit 1).
    """

    file: str
    reaction: str
    command: str = "refresh"
    exit_code: int | None = 0
    issues: tuple[tuple[str, str, str], ...] = ()
    mentions: tuple[str, ...] = ()
    on_hold: tuple[str, ...] = ()
    same_as_base: bool = True
    pay: Mapping[tuple[str, str], object] = field(default_factory=dict)
    report: Mapping[str, object] = field(default_factory=dict)
    recalc: tuple[str, ...] = ()
    fix: Fix | None = None


CASES: tuple[Case, ...] = (
    # ----------------------------------------------------------------- workbooks: refresh
    Case("b01_percent_typed_47.xlsx", "异常 考核!Y7 单位疑误 (47 looks like a percentage); "
         "KF003 待核", issues=(("考核", "Y7", "单位疑误"),), on_hold=("KF003",),
         recalc=("考核!Y7",)),
    Case("b02_fullwidth_percent.xlsx", "read as 47% (full-width folded): KF003 scores 96, paid",
         pay={("KF003", "KPI得分"): 96.0, ("KF003", NET): 1830.0}),
    Case("b03_fullwidth_digits.xlsx", "read as 178325: same pay as the clean month"),
    Case("b04_na_text.xlsx", "异常 考核!P7 “满意度”应为数字 \"N/A\"; KF003 待核",
         issues=(("考核", "P7", "N/A"),), on_hold=("KF003",)),
    Case("b05_div0_pasted.xlsx", "异常 考核!L7 错误值 #DIV/0!; KF003 待核",
         issues=(("考核", "L7", "#DIV/0!"),), on_hold=("KF003",)),
    Case("b06_merged_header.xlsx", "异常 考核!A4 考核表缺少列“回复过的旺旺数”; the formulas "
         "still read K, pay unchanged", issues=(("考核", "A4", "回复过的旺旺数"),)),
    Case("b07_blank_rows.xlsx", "blank rows skipped: same pay as the clean month"),
    Case("b08_duplicate_id.xlsx", "异常 考核!A5 and A6 工号 KF001 出现 2 次, 员工!A6 KF002 "
         "考核表没有; both KF001 rows 待核, and their team (the rows feed its 团队超额奖金 pool)",
         issues=(("考核", "A5", "出现 2 次"), ("考核", "A6", "出现 2 次"),
                 ("员工", "A6", "考核表没有")), on_hold=("KF001", "KF003")),
    Case("b09_missing_from_roster.xlsx", "异常 考核!A7 工号 KF003 不在员工表; KF003 待核, and its "
         "team (the row feeds its 团队超额奖金 pool)",
         issues=(("考核", "A7", "不在员工表"),), on_hold=TEAM_1),
    Case("b10_roster_extra_agent.xlsx", "异常 员工!A13 KF009 在员工表, 但考核表没有; pay unchanged",
         issues=(("员工", "A13", "考核表没有"),)),
    Case("b11_assessment_renamed.xlsx", "exit 1, nothing written: 找不到“考核”表, 可能被改名为"
         "“考核表”", exit_code=1,
         mentions=(r"(没有|找不到|缺少|不存在)\W{0,2}考核\W{0,2}(工作)?表", "考核表")),
    Case("b12_roster_missing.xlsx", "异常 (and stderr): 找不到“员工”表 — the roster check cannot "
         "run, so everyone is 待核", issues=(("员工", "", "找不到“员工”表"),),
         mentions=("员工: 找不到“员工”表",), on_hold=ALL),
    Case("b13_roster_renamed.xlsx", "as b12: 找不到“员工”表, 可能被改名为“花名册”; everyone 待核",
         issues=(("员工", "", "花名册"),), mentions=("员工: 找不到“员工”表",), on_hold=ALL),
    Case("b14_extra_column.xlsx", "columns found by header: same pay as the clean month"),
    Case("b15_rule_gap.xlsx", "异常 考核!Y7 无匹配档位 47%; every agent in the gap (KF003, KF004, "
         "KF008) 待核", issues=(("考核", "Y7", "无匹配档位"), ("考核", "Y8", "无匹配档位"),
                                ("考核", "Y12", "无匹配档位")),
         on_hold=("KF003", "KF004", "KF008"), recalc=("考核!Y7",)),
    Case("b16_weights_95.xlsx", "异常 考核!AG5… 权重合计 95%; everyone 待核",
         issues=(("考核", "AG7", "权重合计 95%"),), on_hold=ALL, recalc=("考核!AG5",)),
    Case("b17_negative_sales.xlsx", "异常 考核!T7 负数; KF003 待核, and its teammates (the team "
         "bonus cannot be split)", issues=(("考核", "T7", "负数"),), on_hold=TEAM_1),
    Case("b18_reply_rate_1_2.xlsx", "异常 考核!L7 120%, 比率应在 0%–100% 之间; KF003 待核",
         issues=(("考核", "L7", "0%–100%"),), on_hold=("KF003",)),
    Case("b19_reply_rate_120_text.xlsx", "as b18 for the text 120%",
         issues=(("考核", "L7", "0%–100%"),), on_hold=("KF003",)),
    Case("b20_month_chinese_text.xlsx", "2026年11月 read as 2026-11: same pay as the clean month"),
    Case("b21_month_without_year.xlsx", "exit 1: 考核!B2: 月份 \"11月\" 应写成 YYYY-MM",
         exit_code=1, mentions=("11月", "考核!B2")),
    Case("b22_month_as_date.xlsx", "a date cell in 考核!B2 (read headless as its serial 46327) "
         "is the month 2026-11: same pay as the clean month"),
    Case("b23_month_blank.xlsx", "exit 1: 考核月份未填写, 请在 考核!B2 填写", exit_code=1,
         mentions=("考核!B2", "未填写")),
    Case("b24_history_month_text.xlsx", "2026年10月 read as 2026-10: KF002's second month "
         "under 70 gives 淘汰; 历史 rows kept", same_as_base=False,
         pay={("KF002", "备注"): "淘汰 (2026-10 62.98分; 2026-11 55分)",
              ("KF003", NET): 1830.0}),
    Case("b25_history_month_no_year.xlsx", "异常 历史!A5 月份 \"9月\" 应写成 YYYY-MM; KF001 待核",
         issues=(("历史", "A5", "9月"),), on_hold=("KF001",), same_as_base=False),
    Case("b26_huge_sales_1e12.xlsx", "异常 考核!E7 超出合理范围 and 考核!X7 远超规则的范围; KF003 "
         "待核, and its teammates: the team bonus pool was fed by the 1e12",
         issues=(("考核", "E7", "超出合理范围"), ("考核", "X7", "远超规则")), on_hold=TEAM_1,
         pay={("KF001", "备注"): "待核: 团队超额奖金: 同组 KF003 数据有误, 奖金池待核; "
                                 "淘汰预警 (2026-11 65.5分)",
              # nothing paid out of the pool the 1e12 fed: the shares are blank, not shown
              ("KF001", "团队超额奖金"): None, ("KF003", "团队超额奖金"): None}),
    Case("b27_execution_not_in_list.xlsx", "异常 考核!AD7 \"很满意\" 不是规则中的选项; KF003 待核",
         issues=(("考核", "AD7", "很满意"),), on_hold=("KF003",)),
    Case("b28_execution_blank.xlsx", "异常 考核!O7 “执行力”为空; KF003 待核",
         issues=(("考核", "O7", "为空"),), on_hold=("KF003",)),
    Case("b29_rule_emptied.xlsx", "异常 考核!AA5… 规则单元格为空; everyone 待核",
         issues=(("考核", "AA7", "规则单元格为空"),), on_hold=ALL),
    Case("b30_weight_as_text.xlsx", "异常 考核!AG5… 第1个权重应为数字 \"三十\"; everyone 待核",
         issues=(("考核", "AG7", "三十"),), on_hold=ALL),
    Case("b31_attendance_Y.xlsx", "异常 考核!R5 “全勤(是/否)”应为 是/否 之一, 现为 \"Y\"; KF001 "
         "待核 (not a silent 0 全勤奖)", issues=(("考核", "R5", "是/否"),), on_hold=("KF001",)),
    Case("b32_huge_bad_reviews.xlsx", "by the rules: score floored at 0, 不合格, 淘汰预警; paid "
         "薪资+餐补", pay={("KF003", "KPI得分"): 0.0, ("KF003", "等级"): "不合格",
                       ("KF003", NET): 1430.0}),
    Case("b33_formula_overwritten.xlsx", "异常 考核!X5 公式被改为数值 100, 请恢复公式; KF001 待核",
         issues=(("考核", "X5", "公式被改为数值"),), on_hold=("KF001",)),
    Case("b34_ref_error.xlsx", "异常 考核!X7 公式中的错误值 #REF!; KF003 待核",
         issues=(("考核", "X7", "#REF!"),), on_hold=("KF003",)),
    Case("b35_two_sales_columns.xlsx", "异常 考核!E4: 2 列“实际销售额” (考核!E4, 考核!F4) — which "
         "one counts must be confirmed; every agent whose two figures differ (all 8) 待核",
         issues=(("考核", "E4|F4", "实际销售额"),), on_hold=ALL),
    Case("b36_plan_zero.xlsx", "异常 考核!T7 分母为 0; KF003 待核",
         issues=(("考核", "T7", "分母为 0"),), on_hold=("KF003",)),
    Case("b37_negative_bad_reviews.xlsx", "异常 考核!Q7 不能为负数 (and AH7: 150 has no grade); "
         "KF003 待核", issues=(("考核", "Q7", "不能为负数"),), on_hold=("KF003",)),
    Case("b38_negative_deduction.xlsx", "异常 考核!S7 金额不能为负数; KF003 待核 扣款有误",
         issues=(("考核", "S7", "不能为负数"),), on_hold=("KF003",)),
    Case("b39_grade_rule_typo.xlsx", "异常 考核!AH5… 规则第 3 档 \"[7O,80)\" 第 3 个字符 \"O\"; "
         "everyone 待核", issues=(("考核", "AH7", "7O"),), on_hold=ALL),
    Case("b40_min_wage_text.xlsx", "异常 规则!C23 最低工资 应为数字 \"两千\"; pay otherwise "
         "computed",
         issues=(("规则", "C23", "两千"),)),
    Case("b41_name_formula_text.xlsx", "the name is copied to 工资/明细 as text, never a formula",
         pay={("KF003", "姓名"): "=cmd|' /C calc'!A0"}),
    Case("b42_id_trailing_space.xlsx", "KF003␠ matches 员工 KF003: same pay as the clean month"),
    Case("b43_after_sales_rate_95.xlsx", "after-sales: 异常 考核!M5 单位疑误 95; KF001 待核",
         issues=(("考核", "M5", "单位疑误"),), on_hold=("KF001",), same_as_base=False),
    Case("b44_not_a_workbook.xlsx", "exit 1: 不是可读取的 .xlsx/.xlsm 文件", exit_code=1,
         mentions=("不是可读取的",), same_as_base=False),
    Case("b45_truncated.xlsx", "exit 1: 不是可读取的 .xlsx/.xlsm 文件", exit_code=1,
         mentions=("不是可读取的",), same_as_base=False),
    Case("b46_history_month_as_date.xlsx", "date cells on 历史 (read headless as serials "
         "46266…) are months: KF002's second month under 70 gives 淘汰, as with b24",
         same_as_base=False, pay={("KF002", "备注"): "淘汰 (2026-10 62.98分; 2026-11 55分)",
                                  ("KF003", NET): 1830.0}),
    # ----------------------------------------------------------------- exports: import
    Case("e01_summary_rows.csv", "汇总/均值/blank rows skipped and listed; KF001–KF004 imported",
         command="import", report={"skipped_summary": 3, "agents": 4}),
    Case("e02_fullwidth_headers.csv", "full-width headers matched: 8 columns, 4 agents",
         command="import", report={"matched": 8, "agents": 4}),
    Case("e03_gbk.csv", "decoded as GB18030: 4 agents", command="import",
         report={"agents": 4}, mentions=("gb18030",)),
    Case("e04_unknown_nickname.csv", "小王 listed as unknown (第 9 行), not imported; exit 0",
         command="import", report={"unknown_nicknames": 1, "agents": 4}, mentions=("小王",)),
    Case("e05_formula_injection.csv", "= + - @ text kept as text in 执行力; rejected in the "
         "number column 满意度 (P5…P11)", command="import",
         report={"rejected": 7, "agents": 7}, mentions=("P5", "P11")),
    Case("e06_legacy_xls.xls", "exit 1: 是旧版 .xls 文件, 请另存为", command="import",
         exit_code=1, mentions=("旧版 .xls",)),
    Case("e07_html_as_xls.xls", "exit 1: 是网页格式的表格", command="import", exit_code=1,
         mentions=("网页格式",)),
    Case("e08_only_summary.csv", "exit 1: 没有可导入的数据, the 2 summary rows listed",
         command="import", exit_code=1, report={"skipped_summary": 2, "agents": 0},
         mentions=("没有可导入的数据",)),
    Case("e09_summary_rows.xlsx", "%-formatted cells not divided again; 合计/平均值 skipped",
         command="import", report={"skipped_summary": 2, "agents": 3}),
    Case("e10_na_and_errors.csv", "N/A, #DIV/0!, -, — keep the existing value and are listed",
         command="import", report={"blank_kept": 5, "agents": 2}),
    Case("e11_conflicting_duplicates.csv", "小倩 twice with other figures: not imported, listed",
         command="import", report={"duplicate_rows": 1, "agents": 1}),
    Case("e12_percent_as_number.csv", "回复率(%) 98.7 written as 0.987", command="import",
         report={"agents": 1}),
    Case("e13_no_header.csv", "exit 1: 前 40 行找不到表头", command="import", exit_code=1,
         mentions=("找不到表头",)),
)


# ----------------------------------------------------------------------------- helpers
def load_generator() -> ModuleType:
    """``tests/corpus/make_corpus.py`` as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``kpi-xl ARGV`` in process: (exit code, stdout, stderr). An exception is a crash."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def inputs_of(path: Path) -> dict[str, tuple[dict, dict]]:
    """Every input sheet (all but the refresh's own) as (values, formulas)."""
    book = read_book(path)
    return {name: (dict(sheet.values), dict(sheet.formulas))
            for name, sheet in book.sheets.items() if name not in OUTPUT_SHEETS}


def past_history(path: Path, month: str = "2026-11") -> list[tuple[object, ...]]:
    """历史 rows of months before ``month`` (the month as its number: 2026年9月 = 2026-09 =
    a date cell, which a file read without Excel gives as its serial 46266)."""
    book = read_book(path)
    sheet = book.sheets.get("历史")
    if sheet is None:
        return []
    current = month_number(month)
    rows = []
    for r in sorted({r for r, _ in sheet.values if r > 4}):
        cells = [sheet.values.get((r, c)) for c in range(1, 8)]
        try:
            number = month_number(month_text_of(cells[0]))
        except Exception:  # a month the refresh cannot read stays as typed
            rows.append(tuple(cells))
            continue
        if number != current:
            rows.append((number, *cells[1:]))
    return sorted(rows, key=repr)


def pay_records(path: Path) -> list[dict[str, object]]:
    """The 工资 rows as {header: value}, the 合计 row left out."""
    headers, rows = sheet_rows(path, "工资")
    return [dict(zip(headers, row, strict=True)) for row in rows if row[0] != "合计"]


@dataclass
class Outcome:
    """What one run did: exit code, output, and the file before/after."""

    case: Case
    path: Path
    before: bytes
    code: int
    out: str
    err: str
    inputs_before: dict[str, tuple[dict, dict]] | None = None
    history_before: list[tuple[object, ...]] = field(default_factory=list)
    planned: dict[tuple[int, int], object] = field(default_factory=dict)
    report: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        issues = " ".join(" ".join(row) for row in self.issues()) if self.refreshed else ""
        return f"{self.out}\n{self.err}\n{issues}"

    @property
    def refreshed(self) -> bool:
        return self.case.command == "refresh" and self.code == 0

    def issues(self) -> list[tuple[str, str, str, str]]:
        return issue_rows(self.path) if self.refreshed else []

    def records(self) -> list[dict[str, object]]:
        return pay_records(self.path) if self.refreshed else []


def _readable(path: Path) -> bool:
    try:
        read_book(path)
    except Exception:
        return False
    return True


def run_case(case: Case, work: Path) -> Outcome:
    """Copy the corpus file (or, for an export, the clean month) into ``work`` and run."""
    work.mkdir(parents=True, exist_ok=True)
    if case.command == "import":
        book = work / f"{Path(case.file).stem}.xlsx"
        shutil.copy(BASE, book)
        before = book.read_bytes()
        inputs = inputs_of(book)
        try:  # what the import will write, and its report (the same plan the command makes)
            planned, plan = plan_import(read_book(book), read_export(CORPUS / case.file))
            report = plan.to_dict()
        except KpiError:
            planned, report = {}, {}
        code, out, err = run_cli(["import", str(book), str(CORPUS / case.file)])
        return Outcome(case, book, before, code, out, err, inputs, planned=planned,
                       report=report)
    book = work / case.file
    shutil.copy(CORPUS / case.file, book)
    before = book.read_bytes()
    inputs = inputs_of(book) if _readable(book) else None
    history = past_history(book) if inputs is not None else []
    code, out, err = run_cli(["refresh", str(book)])
    return Outcome(case, book, before, code, out, err, inputs, history)


@pytest.fixture(scope="module")
def base_pay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """The clean month's 工资 rows by 工号."""
    path = tmp_path_factory.mktemp("base") / "base.xlsx"
    shutil.copy(BASE, path)
    code, _, err = run_cli(["refresh", str(path)])
    assert code == 0, err
    assert not issue_rows(path)
    return {str(r["工号"]): r for r in pay_records(path)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Each case run once per session (lazily), shared by the checks below."""
    root = tmp_path_factory.mktemp("corpus")

    class Runs(dict[str, Outcome]):
        def __missing__(self, name: str) -> Outcome:
            case = next(c for c in CASES if c.file == name)
            self[name] = run_case(case, root / Path(name).stem)
            return self[name]

    yield Runs()


def _ids(cases: tuple[Case, ...]) -> list[str]:
    return [Path(c.file).stem for c in cases]


# ----------------------------------------------------------------------------- the corpus
def test_corpus_holds_every_case_and_nothing_else() -> None:
    files = {p.name for p in CORPUS.iterdir()
             if p.is_file() and p.name not in ("README.md", "make_corpus.py", BASE.name)}
    assert files == {c.file for c in CASES}
    assert len(CASES) >= 30
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for case in CASES:
        assert f"`{case.file}`" in readme, f"README.md does not list {case.file}"


REPRODUCED = ("base_sample.xlsx", "b01_percent_typed_47.xlsx", "b07_blank_rows.xlsx",
              "b14_extra_column.xlsx", "b24_history_month_text.xlsx",
              "b43_after_sales_rate_95.xlsx", "b45_truncated.xlsx")
"""Workbooks rebuilt by the test (every build kind; all of them: ``make_corpus.py --check``)."""


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    """make_corpus.py rebuilds the committed files (they are its output, not hand edits):
    every export byte for byte, a sample of workbooks cell for cell."""
    generator = load_generator()
    assert [c.file for c in generator.cases()] == [BASE.name, *(c.file for c in CASES)]
    names = [*REPRODUCED, *(c.file for c in CASES if c.command == "import")]
    problems = [line for path in generator.build_all(tmp_path, names)
                for line in generator.differences(path, CORPUS / path.name)]
    if (CORPUS / "README.md").read_text(encoding="utf-8") != generator.readme():
        problems.append("README.md is not what the tables say")
    assert not problems, "run python tests/corpus/make_corpus.py: " + "; ".join(problems)


# ----------------------------------------------------------------------------- every case
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_no_crash_and_nothing_lost(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.file]
    assert outcome.code in (0, 1), outcome.err
    assert "Traceback" not in outcome.err
    if outcome.code != 0:
        assert outcome.err.strip() or outcome.out.strip(), "a non-zero exit says why"
    if outcome.code != 0 or outcome.inputs_before is None:
        assert outcome.path.read_bytes() == outcome.before, "a failed run must not touch the file"
        return
    after = inputs_of(outcome.path)
    if case.command == "import":
        expected = dict(outcome.inputs_before)
        values, formulas = expected["考核"]
        values = dict(values)
        for cell, value in outcome.planned.items():
            if value is None:
                values.pop(cell, None)
            else:
                values[cell] = float(value) if isinstance(value, int | float) and not isinstance(
                    value, bool) else value
        expected["考核"] = (values, formulas)
        assert after == expected
        return
    assert after == outcome.inputs_before, "the refresh changed an input cell"
    assert past_history(outcome.path) == outcome.history_before, "a past 历史 row was lost"
    for record in outcome.records():
        if str(record.get("备注") or "").startswith(ON_HOLD):
            assert record.get(NET) is None, f"{record['工号']} is 待核 but has 应发工资"


def _issue_found(issues: list[tuple[str, str, str, str]], sheet: str, cell: str,
                 fragment: str) -> bool:
    return any(row[0] == sheet and re.fullmatch(cell, row[1]) and fragment in row[3]
               for row in issues)


def check_reaction(outcome: Outcome, *, exit_code: int | None, issues: tuple, mentions: tuple,
                   on_hold: tuple, same_as_base: bool, base: dict[str, dict[str, object]],
                   any_mention: bool = False) -> None:
    """Assert one reaction (the case's own, or the one its Fix promises)."""
    if exit_code is not None:
        assert outcome.code == exit_code, outcome.err
    found = outcome.issues()
    for sheet, cell, fragment in issues:
        assert _issue_found(found, sheet, cell, fragment), (sheet, cell, fragment, found)
    if mentions:
        hits = [m for m in mentions if re.search(m, outcome.text)]
        assert (hits if any_mention else len(hits) == len(mentions)), (mentions, outcome.text)
    records = outcome.records()
    for agent in on_hold:
        rows = [r for r in records if r["工号"] == agent]
        assert rows, f"{agent} has no 工资 row"
        for row in rows:
            assert str(row.get("备注") or "").startswith(ON_HOLD), row
            assert row.get(NET) is None, row
    if same_as_base and outcome.refreshed:
        touched = set(on_hold) | {agent for agent, _ in outcome.case.pay}
        for record in records:
            agent = str(record["工号"])
            if agent not in touched and agent in base:
                assert record == base[agent], (agent, record, base[agent])


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_reaction(case: Case, outcomes: dict[str, Outcome],
                  base_pay: dict[str, dict[str, object]]) -> None:
    outcome = outcomes[case.file]
    check_reaction(outcome, exit_code=case.exit_code, issues=case.issues,
                   mentions=case.mentions, on_hold=case.on_hold,
                   same_as_base=case.same_as_base, base=base_pay)
    records = {str(r["工号"]): r for r in outcome.records()}
    for (agent, header), value in case.pay.items():
        assert records[agent][header] == value, (agent, header, records[agent])
    for name, expected in case.report.items():
        got = outcome.report.get(name)
        assert (len(got) if isinstance(got, list) else got) == expected, (name, got)


FIXES = tuple(c for c in CASES if c.fix is not None)


@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.fix.bug))  # type: ignore[union-attr]
    for c in FIXES], ids=_ids(FIXES))
def test_known_bug_reaction(case: Case, outcomes: dict[str, Outcome],
                            base_pay: dict[str, dict[str, object]]) -> None:
    """The correct reaction for the cases kpi-xl gets wrong today (strict xfail: when the bug
    is fixed this passes, the xfail turns into a failure, and the Fix moves into the Case)."""
    fix = case.fix
    assert fix is not None
    outcome = outcomes[case.file]
    check_reaction(outcome, exit_code=fix.exit_code, issues=fix.issues,
                   mentions=fix.mentions, on_hold=fix.on_hold, same_as_base=fix.same_as_base,
                   base=base_pay, any_mention=True)
    records = {str(r["工号"]): r for r in outcome.records()}
    for (agent, header), value in fix.pay.items():
        assert records[agent][header] == value, (agent, header, records[agent])


# ----------------------------------------------------------------------------- recalc
RECALC = tuple(c for c in CASES if c.recalc)


@pytest.mark.parametrize("case", RECALC, ids=_ids(RECALC))
def test_recalc_lists_the_cell(case: Case, tmp_path: Path) -> None:
    """``kpi-xl recalc`` lists ``sheet!cell: message`` on stderr and exits 1; inputs unchanged."""
    path = tmp_path / case.file
    shutil.copy(CORPUS / case.file, path)
    before = inputs_of(path)
    code, _, err = run_cli(["recalc", str(path)])
    assert code == 1
    for cell in case.recalc:
        assert re.search(rf"^{re.escape(cell)}: \S", err, re.MULTILINE), err
    assert inputs_of(path) == before


# ----------------------------------------------------------------------------- as a process
FAILING = tuple(c for c in CASES if c.exit_code == 1)


@pytest.mark.parametrize("case", FAILING, ids=_ids(FAILING))
def test_failing_cases_exit_1_without_traceback_as_a_process(case: Case, tmp_path: Path) -> None:
    """The real ``kpi-xl`` process: exit 1, a message, no traceback, the file untouched."""
    if case.command == "import":
        book = tmp_path / "book.xlsx"
        shutil.copy(BASE, book)
        argv = ["import", str(book), str(CORPUS / case.file)]
    else:
        book = tmp_path / case.file
        shutil.copy(CORPUS / case.file, book)
        argv = ["refresh", str(book)]
    before = book.read_bytes()
    done = subprocess.run([sys.executable, "-m", "kpi_xl.cli", *argv], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for mention in case.mentions:
        assert re.search(mention, done.stderr + done.stdout), (mention, done.stderr)
    assert book.read_bytes() == before
