"""The ``kpi-xl`` command: the worksheet functions, templates and the payroll refresh
without Excel. Each subcommand translates arguments and prints; the work is elsewhere."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    try:
        grid = implementation(*(_read_argument(a) for a in raw_arguments))
    except TypeError as error:
        print(f"参数个数不对 (wrong number of arguments): {error}", file=sys.stderr)
        return 2
    errors = [cell for cell in grid.ravel() if isinstance(cell, KpiError)]
    cells = [[_json_cell(cell) for cell in row] for row in grid.tolist()]
    result = cells[0][0] if grid.shape == (1, 1) else cells
    print(json.dumps(result, ensure_ascii=False))
    for message in dict.fromkeys(str(error) for error in errors):
        print(message, file=sys.stderr)
    return 1 if errors else 0


def _json_cell(cell: object) -> object:
    if isinstance(cell, KpiError):
        return cell.code
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kpi-xl", description="客服 KPI 考核与工资 (kpi_xl)")
    parser.add_argument("--version", action="version", version=f"kpi-xl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    fn = commands.add_parser("fn", help="计算一个工作表函数 (evaluate a worksheet function)")
    fn.add_argument("name", help="函数名, 如 KPI_TIER")
    fn.add_argument("arguments", nargs="*", help="参数: JSON (数字, [[...]] 区域) 或文字")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "fn":
        return run_function(arguments.name, arguments.arguments)
    raise AssertionError(arguments.command)


if __name__ == "__main__":
    sys.exit(main())
