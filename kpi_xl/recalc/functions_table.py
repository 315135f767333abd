"""Every Excel function the engine computes, by upper-case name."""

from __future__ import annotations

from kpi_xl.recalc.builtins import BUILTINS as _CORE
from kpi_xl.recalc.criteria import CRITERIA_BUILTINS
from kpi_xl.recalc.evaluate import Builtin
from kpi_xl.recalc.lookup import LOOKUP_BUILTINS

BUILTINS: dict[str, Builtin] = {**_CORE, **CRITERIA_BUILTINS, **LOOKUP_BUILTINS}
SPECIAL = frozenset({"ROW", "COLUMN"})
"""Handled by the evaluator itself (they read a reference's position, not its values)."""

SUPPORTED = frozenset(BUILTINS) | SPECIAL
