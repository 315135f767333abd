"""What an import did, for HR (short bilingual lines) and for programs (:meth:`to_dict`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CellNote", "ColumnMatch", "ImportReport", "RowNote"]

_SHOW = 12
"""Lists longer than this print their first items and a count."""


@dataclass(frozen=True)
class ColumnMatch:
    export_header: str
    target_header: str
    column: int
    """1-based column of 考核."""
    how: str
    """``"header"`` (the workbook's own header, normalised) or ``"synonym"`` (platform name)."""


@dataclass(frozen=True)
class RowNote:
    """An export row that was not imported (or imported with a remark)."""

    row: int
    """1-based row number in the export file / sheet."""
    nickname: str
    detail: str = ""


@dataclass(frozen=True)
class CellNote:
    """A value of the export that was not written (blank, not a number, a formula cell…)."""

    agent: str
    """工号."""
    header: str
    """考核 header of the column."""
    cell: str
    """考核 cell, e.g. ``"F7"``."""
    value: str
    detail: str = ""


@dataclass
class ImportReport:
    book: Path
    export: Path
    source: str = ""
    """How the export was read: ``CSV gb18030, 逗号分隔`` / ``xlsx 工作表 'Sheet1'``."""
    header_row: int = 0
    """1-based row of the export's header."""
    key_header: str = ""
    """Export column that identifies the agent (a nickname column, or 工号)."""
    month: str | None = None
    """考核月份 of the workbook, as it reads (``2026-11``)."""
    matched: list[ColumnMatch] = field(default_factory=list)
    known_unmatched: list[tuple[str, str]] = field(default_factory=list)
    """(export header, reason): platform figures with no 考核 column here, identity columns,
    columns whose target another column already fills."""
    unmatched: list[str] = field(default_factory=list)
    """Export headers nothing recognises."""
    skipped_summary: list[RowNote] = field(default_factory=list)
    unknown_nicknames: list[RowNote] = field(default_factory=list)
    ambiguous_nicknames: list[RowNote] = field(default_factory=list)
    duplicate_rows: list[RowNote] = field(default_factory=list)
    missing_agents: list[tuple[str, str, str]] = field(default_factory=list)
    """(工号, 姓名, 旺旺昵称) of 员工 agents the export does not list."""
    agents: list[tuple[str, int]] = field(default_factory=list)
    """(工号, 考核 row) of every agent imported, in export order."""
    appended: list[tuple[str, int]] = field(default_factory=list)
    """(工号, 考核 row) of agents that had no 考核 row and got the first empty one."""
    blank_kept: list[CellNote] = field(default_factory=list)
    """Blank / ``-`` values in the export: the workbook's existing input was kept."""
    rejected: list[CellNote] = field(default_factory=list)
    """Values not written: text in a number column, a formula in the target cell."""
    warnings: list[str] = field(default_factory=list)
    cells_written: int = 0
    cells_changed: int = 0
    """Of ``cells_written``, how many now hold a different value than before."""
    saved: bool = False
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """0 when cells were written (warnings allowed), 1 when nothing could be imported."""
        return 0 if self.cells_written else 1

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["book"] = str(self.book)
        data["export"] = str(self.export)
        data["exit_code"] = self.exit_code
        return data

    def lines(self) -> list[str]:
        """The report as short bilingual lines (what ``kpi-xl import`` prints)."""
        out: list[str] = []
        verb = "将写入" if self.dry_run else "写入"
        out.append(
            f"导入 {self.export.name} → {self.book.name} 考核"
            f"{f' ({self.month})' if self.month else ''}: {verb} {self.cells_written} 个单元格"
            f" (其中 {self.cells_changed} 个有变化), {len(self.agents)} 人"
            f" ({self.cells_written} cells {'to write' if self.dry_run else 'written'},"
            f" {self.cells_changed} changed, {len(self.agents)} agents)"
        )
        out.append(
            f"  来源 (source): {self.source}, 表头第 {self.header_row} 行 (header row"
            f" {self.header_row}), 按 {self.key_header} 对应员工 (agents by {self.key_header})"
        )
        if self.matched:
            out.append("  匹配列 (matched columns):")
            for m in self.matched:
                mark = "" if m.how == "header" else " [同义 synonym]"
                out.append(f"    {m.export_header} → {m.target_header}{mark}")
        _section(out, "已识别但未导入的列 (known columns, not imported)",
                 [f"{h}: {why}" for h, why in self.known_unmatched])
        _section(out, "未识别的列 (unmatched columns)", self.unmatched)
        _section(out, "跳过的汇总行 (summary rows skipped)",
                 [f"第 {n.row} 行 {_q(n.nickname)}" for n in self.skipped_summary], inline=True)
        _section(out, "未知昵称, 未导入 (unknown nicknames, not imported)",
                 [f"第 {n.row} 行 {_q(n.nickname)}" for n in self.unknown_nicknames])
        _section(out, "昵称对应多人, 未导入 (ambiguous nicknames, not imported)",
                 [f"第 {n.row} 行 {_q(n.nickname)}: {n.detail}"
                  for n in self.ambiguous_nicknames])
        _section(out, "重复的行 (duplicate rows)",
                 [f"第 {n.row} 行 {_q(n.nickname)}: {n.detail}" for n in self.duplicate_rows])
        _section(out, "员工表中有、导出中没有 (roster agents missing from the export)",
                 [f"{i} {name} {_q(nick)}".rstrip() for i, name, nick in self.missing_agents])
        _section(out, "新增考核行 (rows appended to 考核)",
                 [f"{i} → 第 {row} 行" for i, row in self.appended], inline=True)
        _section(out, "导出为空, 保留原值 (blank in export, existing value kept)",
                 [f"{n.agent} {n.header} ({n.cell})" for n in self.blank_kept], inline=True)
        _section(out, "未写入的值 (values not written)",
                 [f"{n.agent} {n.header} ({n.cell}) {_q(n.value)}: {n.detail}"
                  for n in self.rejected])
        _section(out, "注意 (warnings)", self.warnings)
        if not self.cells_written:
            out.append("  没有可导入的数据 (nothing could be imported)")
        elif self.dry_run:
            out.append("  试运行, 未保存 (dry run, not saved)")
        elif self.saved:
            out.append("  公式结果待重算: 运行 kpi-xl refresh 或在 Excel 中打开 "
                       "(formula results are stale until kpi-xl refresh or Excel recalculates)")
        return out


def _q(text: str) -> str:
    return f"“{text}”" if text else "(空 blank)"


def _section(out: list[str], title: str, items: list[str], *, inline: bool = False) -> None:
    if not items:
        return
    shown = items[:_SHOW]
    more = f" … 共 {len(items)} 项 ({len(items)} in all)" if len(items) > _SHOW else ""
    if inline:
        out.append(f"  {title}: {'; '.join(shown)}{more}")
        return
    out.append(f"  {title}:")
    out.extend(f"    {item}" for item in shown)
    if more:
        out.append(f"   {more}")
