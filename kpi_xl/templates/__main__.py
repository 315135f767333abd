"""``python -m kpi_xl.templates [OUT_DIR]``: rebuild the template workbooks."""

from __future__ import annotations

import sys

from kpi_xl.templates import TEMPLATE_DIR, build_all


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = args[0] if args else TEMPLATE_DIR
    for path in build_all(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
