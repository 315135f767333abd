"""KPI functions through xlwings' Office.js dispatch — the path xlwings Lite uses.

PolyForm Noncommercial: this folder alone runs ``xlwings.server`` (see README, Licences).
"""

from __future__ import annotations

import numpy as np
import pytest

from kpi_xl import functions
from kpi_xl.core.errors import KpiError
from tests import seed_rules as R

pytestmark = pytest.mark.officejs

EXPECTED_FUNCTIONS = {
    "KPI_TIER", "KPI_EXPLAIN", "KPI_SCORE", "KPI_GRADE", "KPI_PAY", "KPI_DEDUCT", "KPI_RATE",
    "KPI_POOL", "KPI_SHARE",
}
DIV0 = {"type": "Error", "basicValue": "#DIV/0!", "errorType": "Div0"}
ERROR_TYPES = {"#N/A": "NotAvailable", "#VALUE!": "Value", "#DIV/0!": "Div0", "#NUM!": "Num"}


def _as_officejs(cell: object) -> object:
    """What Office.js receives for a core cell (xlwings turns '#N/A' text into an error)."""
    if isinstance(cell, KpiError):
        return {"type": "Error", "errorType": ERROR_TYPES[cell.code]}
    return cell


def test_meta_lists_every_function_with_bilingual_descriptions(officejs) -> None:
    meta = officejs({"calls": []})["meta"]
    by_name = {f["name"]: f for f in meta["functions"]}
    assert set(by_name) == EXPECTED_FUNCTIONS
    for function in by_name.values():
        assert "(" in function["description"], function["name"]  # 中文 (English)
        for parameter in function["parameters"]:
            assert not parameter["description"].startswith("Positional"), parameter
            assert parameter["dimensionality"] == "matrix"
    tier = [p["name"] for p in by_name["KPI_TIER"]["parameters"]]
    assert tier == ["value", "rule"]


def test_range_calls_return_what_the_core_returns(officejs) -> None:
    values = [[0.52], [0.47], [0.45], [0.4499], [0.41], [0.2], [DIV0], [None], ["abc"]]
    rule = [[R.S1_CONVERSION]]
    answer = officejs({"calls": [
        {"func_name": "KPI_TIER", "args": [values, rule]},
        {"func_name": "KPI_GRADE", "args": [[[95], [85], [75], [65]], [[R.S1_GRADES]]]},
        {"func_name": "KPI_RATE", "args": [[[None], [0.9]], [[45], [None]], [[100], [None]]]},
    ]})
    core_values = [[v if v is not DIV0 else "#DIV/0!" for v in row] for row in values]
    expected = np.vectorize(_as_officejs, otypes=[object])(
        functions.kpi_tier(core_values, R.S1_CONVERSION)
    ).tolist()
    assert answer["results"][0]["value"] == expected
    assert expected[:6] == [[100], [80], [80], [60], [60], [0]]
    assert answer["results"][1]["value"] == [["高级客服"], ["中级客服"], ["初级客服"], ["不合格"]]
    assert answer["results"][2]["value"] == [[0.45], [0.9]]


def test_a_single_cell_error_raises_with_its_message(officejs) -> None:
    answer = officejs({"calls": [{"func_name": "KPI_TIER", "args": [[[47]], [[R.S1_CONVERSION]]]}]})
    result = answer["results"][0]
    assert result["raised"] == "ValueProblem"
    assert "请输入 47% 或 0.47" in result["message"]


def test_score_pay_and_pool_ranges(officejs) -> None:
    weights = [[0.3, 0.2, 0.1, 0.1, 0.05, 0.05, 0.1, 0.1]]
    points = [[85, 80, 100, 80, 60, 100, 90, 80], [100, 100, 100, 100, 100, 100, 100, 100]]
    answer = officejs({"calls": [
        {"func_name": "KPI_SCORE", "args": [points, weights, [[-50], [None]]]},
        {"func_name": "KPI_PAY", "args": [[["等级系数"]], [[3000]], [["A"], ["D"]],
                                          [[R.S2_COEFFICIENTS]], None]},
        {"func_name": "KPI_POOL", "args": [[[3000]], [[95], [90], [85], [80], [80]],
                                           [[1], [2], [3], [5], [4]], None]},
    ]})
    # 84.5 − 50 = 34.5 (see test_functions_pay); 100 for all-100 points
    assert answer["results"][0]["value"] == [[34.5], [100.0]]
    assert answer["results"][1]["value"] == [[3600.0], [1500.0]]
    assert answer["results"][2]["value"] == [[1400.0], [1000.0], [300.0], [300.0], [300.0]]
