"""The ``kpi-xl`` command: the worksheet functions, templates and the payroll refresh
without Excel. Each subcommand translates arguments and prints; the work is elsewhere."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from kpi_xl import __version__, functions
from kpi_xl.core.errors import KpiError


def _read_argument(text: str) -> object:
    """An ARG is JSON when it parses (numbers, ``[[...]]`` ranges, null), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_function(name: str, raw_arguments: Sequence[str]) -> int:
    """``kpi-xl fn NAME ARG…``: print the result as JSON; exit 1 on an error value."""
    implementation = functions.FUNCTIONS.get(name.upper())
    if implementation is None:
        known = ", ".join(sorted(functions.FUNCTIONS))
        print(f"未知函数 {name} (unknown function); 可用: {known}", file=sys.stderr)
        return 2
    arguments = [_read_argument(a) for a in raw_arguments]
    try:
        inspect.signature(implementation).bind(*arguments)
    except TypeError:
        print(f"{name.upper()} 的参数个数不对, 应为 {_parameters(implementation)}; 收到 "
              f"{len(arguments)} 个 (wrong number of arguments)", file=sys.stderr)
        return 2
    grid = implementation(*arguments)
    errors = [cell for cell in grid.ravel() if isinstance(cell, KpiError)]
    cells = [[_json_cell(cell) for cell in row] for row in grid.tolist()]
    result = cells[0][0] if grid.shape == (1, 1) else cells
    print(json.dumps(result, ensure_ascii=False))
    for message in dict.fromkeys(str(error) for error in errors):
        print(message, file=sys.stderr)
    return 1 if errors else 0


def _parameters(function: Callable[..., object]) -> str:
    """``value, rule[, floor]``: the parameters, optional ones in brackets."""
    required, optional = [], []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            optional.append(f"{parameter.name}…")
        elif parameter.default is parameter.empty:
            required.append(parameter.name)
        else:
            optional.append(parameter.name)
    text = ", ".join(required)
    return text + "".join(f"[, {name}]" for name in optional)


def _json_cell(cell: object) -> object:
    if isinstance(cell, KpiError):
        return cell.code
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _count(text: str) -> int:
    """An argparse type: a whole number ≥ 0."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"应为 0 或正整数, 收到 {text!r} (a whole number ≥ 0)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kpi-xl", description="客服 KPI 考核与工资 (kpi_xl)")
    parser.add_argument("--version", action="version", version=f"kpi-xl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    fn = commands.add_parser("fn", help="计算一个工作表函数 (evaluate a worksheet function)")
    fn.add_argument("name", help="函数名, 如 KPI_TIER")
    fn.add_argument("arguments", nargs="*", help="参数: JSON (数字, [[...]] 区域) 或文字")

    new = commands.add_parser("new", help="由模板新建月度工作簿 (a month workbook from a template)")
    new.add_argument("template", help=f"模板编号: {', '.join(_template_ids())}")
    new.add_argument("out", help="输出文件 .xlsx")
    new.add_argument("--month", default=None, help="考核月份 YYYY-MM (默认: 本月)")
    new.add_argument("--sample", action="store_true", help="填入示例数据 (sample data)")
    new.add_argument("--history", type=_count, default=0, help="示例历史月数 (with --sample)")
    new.add_argument("--agents", type=_count, default=None, help="示例人数 (with --sample)")
    new.add_argument("--no-lite", action="store_true",
                     help="不写入 xlwings Lite 代码 (leave the Lite code out)")
    new.add_argument("--force", action="store_true",
                     help="覆盖已有文件, 旧文件留作 .bak (overwrite, keeping a .bak)")

    recalc = commands.add_parser("recalc", help="离线重算并保存 (compute every formula, save)")
    recalc.add_argument("book", help="工作簿 .xlsx/.xlsm")
    recalc.add_argument("--out", default=None, help="另存为 (default: in place, keeps .bak)")

    embed = commands.add_parser("lite-embed", help="把 xlwings Lite 代码写入工作簿")
    embed.add_argument("book", help="工作簿 .xlsx")
    names = embed.add_mutually_exclusive_group()
    names.add_argument("--lite-names", dest="lite_names", action="store_const", const=True,
                       help="公式改写为 Lite 的存储形式 _xldudf_KPI_…( (Office.js spelling)")
    names.add_argument("--classic-names", dest="lite_names", action="store_const", const=False,
                       help="公式改回 KPI_…( (classic spelling)")

    refresh = commands.add_parser("refresh", help="刷新工资表 (recalculate, fill 工资/明细/历史/"
                                                  "异常/概览, save)")
    refresh.add_argument("book", help="工作簿 .xlsx/.xlsm")
    refresh.add_argument("--month", default=None, help="考核月份 YYYY-MM (默认: 考核!B2)")
    refresh.add_argument("--json", action="store_true",
                         help="把工资行以 JSON 输出 (print the 工资 rows as JSON)")

    imports = commands.add_parser("import", help="从平台导出填写考核表 (fill 考核 from a "
                                                 "platform export)")
    imports.add_argument("book", help="工作簿 .xlsx")
    imports.add_argument("export", help="平台导出 .csv/.xlsx (赤兔, 千牛 …)")
    imports.add_argument("--dry-run", action="store_true", help="只报告, 不写入 (report only)")
    imports.add_argument("--json", action="store_true", help="以 JSON 输出报告")

    demo = commands.add_parser("demo", help="示例: 淘宝客服表一个月 + 6 个月历史, 刷新并汇总")
    demo.add_argument("--out", default="out", help="输出目录 (default: ./out)")
    return parser


def _template_ids() -> list[str]:
    from kpi_xl.templates import TEMPLATES

    return list(TEMPLATES)


def _new(arguments: argparse.Namespace) -> int:
    from kpi_xl.core.history import month_number, month_text
    from kpi_xl.templates import new_month
    from kpi_xl.workbook.atomic import backup_path, check_not_open_in_excel

    if arguments.template not in _template_ids():
        print(f"未知模板 {arguments.template} (unknown template); 可用: "
              f"{', '.join(_template_ids())}", file=sys.stderr)
        return 2
    if not arguments.sample and (arguments.history or arguments.agents is not None):
        raise KpiError("--history 和 --agents 只用于示例数据: 请同时使用 --sample",
                       "--history and --agents need --sample")
    out = Path(arguments.out)
    if out.suffix.lower() != ".xlsx":
        raise KpiError(f"输出文件应以 .xlsx 结尾, 收到 {out.name}",
                       f"the output file must end in .xlsx, got {out.name}")
    check_not_open_in_excel(out)
    if out.exists() and not arguments.force:
        raise KpiError(f"{out} 已存在, 未写入: 要覆盖请加 --force (旧文件会留作 .bak)",
                       f"{out} exists, nothing written; pass --force to overwrite it")
    if out.exists():
        out.replace(backup_path(out))
    month = month_text(month_number(arguments.month or date.today().strftime("%Y-%m")))
    path = new_month(arguments.template, out, month=month, sample=arguments.sample,
                     history_months=arguments.history, agents=arguments.agents,
                     lite=not arguments.no_lite)
    print(f"已创建 {path} ({arguments.template}, {month})")
    return 0


def _workbook(path: str) -> str:
    """``path``, once it is known to be an .xlsx/.xlsm file (not missing, a folder, an .xls)."""
    from kpi_xl.workbook.ooxml import check_workbook_file

    check_workbook_file(path)
    return path


def _recalc(arguments: argparse.Namespace) -> int:
    from kpi_xl.workbook.headless import problem_lines, recalc_file

    if arguments.out is not None and not Path(arguments.out).resolve().parent.is_dir():
        raise KpiError(f"--out 的文件夹不存在: {Path(arguments.out).parent}",
                       f"the folder of --out does not exist: {Path(arguments.out).parent}")
    result = recalc_file(_workbook(arguments.book), arguments.out)
    lines = problem_lines(result)
    for line in lines:
        print(line, file=sys.stderr)
    computed = sum(len(cells) for cells in result.values.values())
    print(f"已重算 {computed} 个公式单元格, 问题 {len(lines)} 个 ({computed} formula cells, "
          f"{len(lines)} problems)")
    return 1 if lines else 0


def _lite_embed(arguments: argparse.Namespace) -> int:
    from kpi_xl.lite import embed_lite

    path = embed_lite(_workbook(arguments.book), lite_names=arguments.lite_names)
    print(f"已写入 xlwings Lite 代码: {path}")
    return 0


def _refresh(arguments: argparse.Namespace) -> int:
    from kpi_xl.workbook.refresh import refresh_file

    result = refresh_file(_workbook(arguments.book), arguments.month)
    if arguments.json:
        print(result.to_json())
    else:
        print(f"已刷新 {arguments.book}: {result.month}, {len(result.agents)} 人, "
              f"应发工资合计 {result.total:,} 元 (refreshed)")
    for sheet, cell, agent, message in result.issue_rows:
        if not cell and not agent:  # a whole sheet is missing, a rule cannot run …
            print(f"{sheet}: {message}", file=sys.stderr)
    if result.issues:
        print(f"异常 {result.issues} 条, 待核 {result.on_hold} 人: 见 异常 表 "
              f"({result.issues} issues listed on 异常)", file=sys.stderr)
    for sheet in result.skipped:
        print(f"工作簿没有 {sheet} 表, 未写入 (sheet missing, skipped)", file=sys.stderr)
    return 0


def _demo(arguments: argparse.Namespace) -> int:
    from kpi_xl.demo import run_demo, summary_table

    path, result = run_demo(arguments.out)
    print(f"示例工作簿 (sample workbook): {path}  —  {result.template_id}, {result.month}")
    print("\n".join(summary_table(result)))
    return 0


def _import(arguments: argparse.Namespace) -> int:
    from kpi_xl.importer import import_export

    report = import_export(_workbook(arguments.book), arguments.export,
                           dry_run=arguments.dry_run)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if arguments.json
          else "\n".join(report.lines()))
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "fn":
        return run_function(arguments.name, arguments.arguments)
    handlers = {"new": _new, "recalc": _recalc, "lite-embed": _lite_embed, "refresh": _refresh,
                "import": _import, "demo": _demo}
    try:
        return handlers[arguments.command](arguments)
    except (KpiError, ValueError) as error:
        print(str(error), file=sys.stderr)
        return 1
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        print(f"无法读写{where}: {error.strerror or error} (file error)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
