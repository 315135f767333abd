"""The template catalogue: one data description per seed sheet (S1–S7)."""

from __future__ import annotations

from kpi_xl.templates.model import Template
from kpi_xl.templates.specs import (
    after_sales,
    commission,
    medal,
    presales_detail,
    salary_80_20,
    score_130,
    taobao_cs,
)

TEMPLATES: dict[str, Template] = {
    module.TEMPLATE.id: module.TEMPLATE
    for module in (taobao_cs, after_sales, presales_detail, medal, commission, score_130,
                   salary_80_20)
}
"""Template id → description, in seed order (S1 first)."""


def get(template_id: str) -> Template:
    """The description of ``template_id``; a clear error naming the known ids otherwise."""
    try:
        return TEMPLATES[template_id]
    except KeyError:
        known = ", ".join(TEMPLATES)
        raise KeyError(f"未知模板 {template_id!r}; 可用: {known} (unknown template)") from None
