"""``python -m kpi_xl.addin build [--out DIR]`` | ``python -m kpi_xl.addin vba FILE.xlam``."""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from kpi_xl.addin.build import build
from kpi_xl.addin.ovba import VbaProject

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "install" / "windows"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m kpi_xl.addin``."""
    parser = argparse.ArgumentParser(prog="python -m kpi_xl.addin")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build kpi_xl.xlam from the xlwings quickstart")
    p_build.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p_vba = sub.add_parser("vba", help="print the VBA modules of an .xlam/.xlsm")
    p_vba.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.command == "build":
        for path in build(args.out):
            print(path)
        return 0
    with zipfile.ZipFile(args.file) as zf:
        project = VbaProject(zf.read("xl/vbaProject.bin"))
    for info in project.modules():
        print(f"===== {info.name} (stream {info.stream_name}, source at offset {info.offset})")
        print(project.module_source(info.name).replace("\r\n", "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
