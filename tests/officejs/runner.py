"""Runs kpi_xl's functions through xlwings' own Office.js dispatch (the xlwings Lite path).

xlwings picks its decorators when first imported, so this runs in a fresh process with
``XLWINGS_ON_SERVER=true``. ``xlwings.server`` is PolyForm Noncommercial: only the tests in
``tests/officejs/`` use it. Reads a JSON request on stdin, prints a JSON answer.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import types

os.environ["XLWINGS_ON_SERVER"] = "true"
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")


def stub_pyodide() -> None:
    """In Pyodide `pyodide.ffi.JsNull` exists; on CPython each lookup fails slowly."""
    ffi = types.ModuleType("pyodide.ffi")
    ffi.JsNull = type("JsNull", (), {})
    package = types.ModuleType("pyodide")
    package.ffi = ffi
    sys.modules.setdefault("pyodide", package)
    sys.modules.setdefault("pyodide.ffi", ffi)


def _load_module(request: dict) -> types.ModuleType:
    if "source_path" in request:  # a generated main.py, loaded from its text as Lite does
        module = types.ModuleType("main")
        with open(request["source_path"], encoding="utf-8") as handle:
            exec(compile(handle.read(), "main.py", "exec"), module.__dict__)
        return module
    return importlib.import_module(request.get("module", "kpi_xl.udfs"))


async def _run_script(request: dict) -> dict:
    """Run an ``@script`` on ``xw.Book(json=payload)`` as xlwings Lite does; the actions."""
    import xlwings as xw
    from xlwings import server

    module = _load_module(request)
    book = xw.Book(json=request["payload"])
    await server.custom_scripts_call(module, request["script"], typehint_to_value={xw.Book: book})
    return {"actions": book.json()["actions"], "scripts": server.custom_scripts_meta(module)}


async def _answer(request: dict) -> dict:
    import xlwings
    from xlwings import server

    if "script" in request:
        return await _run_script(request)
    module = _load_module(request)
    answer: dict = {"meta": server.custom_functions_meta(module), "results": []}
    for call in request.get("calls", []):
        data = {
            "func_name": call["func_name"],
            "args": call["args"],
            "version": xlwings.__version__,
            "client": "Office.js",
            "runtime": "1.4",
            "culture_info_name": "zh-CN",
            "date_format": "yyyy/m/d",
        }
        try:
            answer["results"].append({"value": await server.custom_functions_call(data, module)})
        except Exception as error:  # the runtime shows it as #VALUE! with this message
            answer["results"].append({"raised": type(error).__name__, "message": str(error)})
    return answer


if __name__ == "__main__":
    stub_pyodide()
    print(json.dumps(asyncio.run(_answer(json.load(sys.stdin))), ensure_ascii=False))
