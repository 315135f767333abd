"""The data that describes one template workbook; :mod:`kpi_xl.templates.builder` builds it.

A template is pure data: input columns (what HR types each month), scored items (a tier rule
in the seed's notation, a weight, the column the rule reads), computed columns (formula text
with placeholders), parameters and tables for the 规则 tab, grade bands, pay components.
Nothing here knows about openpyxl.

Formula placeholders (resolved by the builder, always for the current row of 考核):

``{c:key}``      this row's cell of column ``key`` (input or computed), e.g. ``E5``
``{col:key}``    the whole data range of column ``key``, absolute, e.g. ``$E$5:$E$204``
``{rule:key}``   the rule cell of item ``key`` on 规则, e.g. ``规则!$C$5``
``{p:key}``      the value cell of parameter ``key`` on 规则, e.g. ``规则!$C$21``
``{t:key:n}``    column ``n`` (1-based) of table ``key`` on 规则, absolute range
``{tbl:key}``    the whole table ``key`` (for ``KPI_TIER(value, 2-column range)``)
``{emp:key}``    this agent's roster value: INDEX/MATCH on 员工 by 工号
``{points}``     this row's points range (every item's points column, in item order)
``{weights}``    the weights range on 规则 (one cell per item, item order)
``{adj}``        this row's adjustment range (every ``role="adjust"`` column)
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

InputKind = Literal[
    "id", "name", "team", "text", "money", "count", "rate", "seconds", "hours", "choice",
    "yesno", "points", "score", "deduction",
]
CalcRole = Literal["lookup", "value", "adjust", "score", "grade", "pay"]
Notation = Literal["tier", "deduct", "split", "text"]
HistoryKind = Literal["elimination", "run", "quarter_prize"]

SampleFn = Callable[["SampleRow"], object]
PoolScope = Literal["team", "all"]

YESNO = ("是", "否")
"""The two answers of a ``yesno`` input (its dropdown)."""


@dataclass(frozen=True)
class Bounds:
    """What a number HR types in an input column may be: ``low`` ≤ value ≤ ``high`` (``None``:
    unbounded), a whole number when ``whole``. ``high`` is a plausibility limit — a value
    beyond it is a typo (1e12 元 of sales), not a figure to pay on; so is ``least`` below: a
    value above 0 but under it is no figure a person produces (a reply in 0.0007 s is 1:01
    typed as a time of day). 0 itself is left to ``low``."""

    low: float | None = None
    high: float | None = None
    whole: bool = False
    least: float | None = None


KIND_BOUNDS: dict[str, Bounds] = {
    "money": Bounds(0, 1e9),
    "count": Bounds(0, 1e7, whole=True),
    "rate": Bounds(0, 1),
    "seconds": Bounds(0, 86_400, least=1),
    "hours": Bounds(0, 744),
    "points": Bounds(0),
    "score": Bounds(0),
    "deduction": Bounds(0),
}
"""Per input kind (the refresh checks every agent row, and every numeric 规则 parameter,
against them; an input or parameter may override)."""
KIND_NOUNS: dict[str, str] = {
    "money": "金额", "count": "次数/人数", "rate": "比率", "seconds": "秒数", "hours": "小时数",
    "points": "分数", "score": "分数", "deduction": "扣分",
}
"""What a value of each kind is called in a message (``金额不能为负数``)."""
NEGATIVE_HINTS: dict[str, str] = {
    "deduction": "扣分请填正数 (如 {positive}), 公式会自动扣减",
}
"""Added to the "must not be negative" message of a kind (``{positive}``: the value without
its minus sign)."""


@dataclass(frozen=True)
class Input:
    """A column HR fills in 考核 (or 员工) every month, headed with the seed's own name."""

    key: str
    header: str
    kind: InputKind
    choices: tuple[str, ...] = ()
    note: str = ""
    """Input message shown when the cell is selected (data validation prompt)."""
    sample: SampleFn | None = None
    """How ``--sample`` fills this column (called once per agent); ``None`` leaves it blank."""
    width: float | None = None
    optional: bool = False
    """A blank cell is fine (a "可直接填" column, or counts it replaces; 扣款 blank = 0); the
    refresh lists blanks in every other input column of an agent's row in 异常."""
    bounds: Bounds | None = None
    """Overrides :data:`KIND_BOUNDS` for this column."""
    exact: bool = False
    """A ``choice`` column some formula compares as typed (``=``, MATCH): a value that only
    folds to a choice (a stray space, full-width letters) is an input problem. ``yesno``
    columns always are (their formulas test ``="是"``); a column read only by KPI_TIER is not
    (KPI_TIER folds the text)."""

    @property
    def exact_text(self) -> bool:
        """Whether a cell must hold one of :attr:`allowed` exactly as written."""
        return self.exact or self.kind == "yesno"

    @property
    def allowed(self) -> tuple[str, ...]:
        """The values a ``choice``/``yesno`` cell may hold (its dropdown); ``()`` for others."""
        if self.kind == "yesno":
            return self.choices or YESNO
        return self.choices if self.kind == "choice" else ()

    @property
    def limits(self) -> Bounds | None:
        """The bounds a number in this column must keep (``None``: not a number column)."""
        return self.bounds if self.bounds is not None else KIND_BOUNDS.get(self.kind)


@dataclass(frozen=True)
class Item:
    """One scored KPI: a row of 规则 (rule text, weight) and a points column in 考核."""

    key: str
    name: str
    rule: str
    """The tiers in the seed's notation (``X≥100%:100; 90%≤X<100%:85; …``); may be empty
    when ``points`` computes the item from parameters instead."""
    value: str = ""
    """Key of the 考核 column the rule reads (an input or a ``role="value"`` computed column)."""
    symbol: str = ""
    definition: str = ""
    weight: float | None = None
    points: str | None = None
    """Formula template for the points; default ``KPI_TIER({c:<value>},{rule:<key>})``."""
    lower_is_better: bool = False
    assumption: str = ""
    """Non-empty when the seed does not give this rule: 说明 lists it, pointing at the cell."""
    sample: tuple[object, ...] = ()
    """Per tier, in rule order: a ``(low, high)`` range or a label to draw the value from."""
    sample_weights: tuple[float, ...] = ()
    """Relative frequency of each tier beyond the first pass that hits every tier once."""


@dataclass(frozen=True)
class Draw:
    """A sample-only quantity that is not a scored item (e.g. S5's 咨询转化率 for 提点比例):
    drawn per agent exactly like an item's tiers, so every tier of its rule is hit."""

    key: str
    sample: tuple[object, ...]
    sample_weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class Calc:
    """A formula column of 考核; ``formula`` is a template (see module doc), without ``=``."""

    key: str
    header: str
    formula: str
    role: CalcRole
    fmt: str = "General"
    array: bool = False
    """Write one array formula over the whole column (KPI_POOL) instead of one per row."""
    guard: bool = True
    """Wrap as ``IF($A5="","",…)`` so rows without a 工号 stay blank."""
    width: float | None = None


@dataclass(frozen=True)
class Param:
    """A labelled value on 规则 (a number, a rule text, or blank until HR fills it)."""

    key: str
    label: str
    value: object
    fmt: str = "General"
    note: str = ""
    notation: Notation | None = None
    """Which notation the text is in, so the tests can parse it (``tier``: parse_rule)."""
    assumption: str = ""
    defined_name: str | None = None
    sample_value: object = None
    """Used by ``new_month(sample=True)`` when ``value`` is blank (a month needs a figure)."""
    kind: InputKind | None = None
    """A number parameter: what it is (``rate``, ``money``, ``points``, ``deduction``: a
    deduction typed positive, the formula subtracts it …), checked on refresh against the
    kind's :data:`KIND_BOUNDS` like an input. A ``tier`` rule: what its thresholds read (a
    ``rate`` rule written without % is a unit slip). ``None``: not checked."""
    bounds: Bounds | None = None
    """Overrides :data:`KIND_BOUNDS` for this parameter."""

    def as_input(self) -> Input:
        """The parameter's value cell checked as an input of its kind would be."""
        return Input(self.key, self.label, self.kind or "text", bounds=self.bounds)


@dataclass(frozen=True)
class Table:
    """A small table on 规则 (brackets, per-level amounts, special cases)."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    formats: tuple[str, ...] = ()
    note: str = ""
    assumption: str = ""
    sample_rows: tuple[tuple[object, ...], ...] = ()
    """Replaces ``rows`` in sample months (e.g. team targets with values)."""


@dataclass(frozen=True)
class PayLine:
    """A column of 工资 between 等级 and 扣款, named as the seed names the pay component.

    ``source`` is the key of the 考核 column that computes it (a ``role="pay"`` :class:`Calc`,
    so HR can trace every number to a formula), or, with ``history=True``, the key of a
    :class:`HistoryRule` the refresh computes from 历史 (S5's 季度优异奖). ``money=False`` lines
    (a coefficient, a rate, a base) are shown but not summed into 应发工资.
    """

    header: str
    source: str
    money: bool = True
    history: bool = False
    pool: PoolScope | None = None
    """The line shares one pool across rows: ``"team"`` (S1 团队超额奖金, KPI_SHARE per 团队) or
    ``"all"`` (S3 绩效奖金, KPI_POOL over everyone). When a row that feeds the pool (a problem in
    a column the line's formula depends on) is on hold, every agent sharing that pool is on
    hold too: nobody is paid out of a pool a bad row fed."""


@dataclass(frozen=True)
class HistoryRule:
    """A multi-month rule the refresh applies over 历史 + this month.

    ``elimination``: ``flag`` at ``times`` months below ``threshold`` (``warning`` after the
    first) within ``window`` months (``全部``/blank = all on record) — S1 两次低于70分淘汰.
    ``run``: ``flag`` after ``times`` consecutive months with a grade in ``grades`` — S3 晋升,
    电销 三个月 D 淘汰. ``quarter_prize``: the previous quarter's top scorers get the amounts
    of 规则 table ``table`` (名次, 奖金), paid in the first month of the next quarter — S5.

    ``threshold``, ``times``, ``window`` and ``grades`` are literals, or the key of a
    :class:`Param` whose value the refresh reads from 规则 (found by its label).
    """

    key: str
    kind: HistoryKind
    flag: str = ""
    warning: str = ""
    threshold: float | str | None = None
    times: int | str | None = None
    window: int | str | None = None
    grades: tuple[str, ...] | str = ()
    table: str = ""


@dataclass(frozen=True)
class Grade:
    """A grade band: label and inclusive lower bound (``None`` for the last band)."""

    label: str
    low: float | None


@dataclass(frozen=True)
class Template:
    """One template workbook, all of it data."""

    id: str
    source: str
    """Seed sheet id, e.g. ``S1``."""
    title: str
    purpose: str
    inputs: tuple[Input, ...]
    items: tuple[Item, ...]
    calcs: tuple[Calc, ...]
    grades: tuple[Grade, ...]
    pay_lines: tuple[PayLine, ...]
    """工资 columns between 等级 and 扣款, as the seed names the pay components."""
    params: tuple[Param, ...] = ()
    tables: tuple[Table, ...] = ()
    roster: tuple[Input, ...] = ()
    """员工 columns after 工号, 姓名, 团队, 岗位, 旺旺昵称 (the template's pay bases)."""
    teams: tuple[str, ...] = ("售前一组", "售前二组", "售后组")
    posts: tuple[str, ...] = ("客服专员",)
    shop: str = "悦然家居旗舰店"
    max_score: float = 100
    grade_open_top: bool = False
    """Top band written ``≥90`` (bonus points may pass 100) instead of ``[90,100]``."""
    grade_assumption: str = ""
    score_bins: tuple[str, ...] = ("<60", "[60,70)", "[70,80)", "[80,90)", "≥90")
    monthly_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    default_agents: int = 30
    capacity: int = 200
    draws: tuple[Draw, ...] = ()
    """Sample-only quantities (see :class:`Draw`)."""
    history_rules: tuple[HistoryRule, ...] = ()
    """Multi-month rules of the refresh (淘汰, 晋升, quarterly prizes)."""
    loss_key: str = "loss"
    """The 考核 input holding the loss deduction (扣款(赔偿损失)) the wage law caps."""
    min_wage_key: str = "min_wage"
    """The 规则 parameter holding the local minimum wage (blank = not checked)."""

    @property
    def pay_headers(self) -> tuple[str, ...]:
        """The pay-line headers of 工资, in order."""
        return tuple(line.header for line in self.pay_lines)

    def param(self, key: str) -> Param:
        return next(p for p in self.params if p.key == key)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def reads_rate(self, item: Item) -> bool:
        """Whether the value item ``item``'s rule reads is a rate (a ``rate`` input, or a
        computed column shown as a percentage)."""
        kinds = {spec.key: spec.kind for spec in self.inputs}
        if item.value in kinds:
            return kinds[item.value] == "rate"
        return any(calc.key == item.value and calc.fmt.endswith("%") for calc in self.calcs)

    def sheet_calcs(self) -> list[tuple[str, Calc]]:
        """The computed columns of 考核 in sheet order, as ``(role, calc)``; points included.

        A template without its own ``score``/``grade`` column gets ``KPI_SCORE`` over the
        points and weights (with the adjustments) and ``KPI_GRADE`` on the 规则 bands.
        """
        calcs = list(self.calcs)
        roles = {c.role for c in calcs}
        if "score" not in roles:
            formula = "KPI_SCORE({points},{weights},{adj})" if "adjust" in roles else (
                "KPI_SCORE({points},{weights})")
            calcs.append(Calc("score", "KPI得分", formula, "score", FMT_SCORE))
        if "grade" not in roles:
            calcs.append(Calc("grade", "等级", "KPI_GRADE({c:score},{p:grades})", "grade"))
        points = [Calc(f"pt_{item.key}", item_points_header(item), points_formula(item),
                       "value", FMT_POINTS) for item in self.items]
        ordered: list[tuple[str, Calc]] = []
        for role in ROLE_ORDER:
            if role == "points":
                ordered += [("points", p) for p in points]
            else:
                ordered += [(role, c) for c in calcs if c.role == role]
        return ordered

    def depends_on(self, key: str) -> frozenset[str]:
        """The 考核 columns the column ``key`` is computed from (transitively, itself included),
        read off the formula templates (``{c:…}``, ``{col:…}``, ``{points}``, ``{adj}``)."""
        formulas = {calc.key: calc.formula for _, calc in self.sheet_calcs()}
        adjust = [calc.key for role, calc in self.sheet_calcs() if role == "adjust"]
        points = [f"pt_{item.key}" for item in self.items]
        found: set[str] = set()
        todo = [key]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            formula = formulas.get(current, "")
            todo += re.findall(r"\{(?:c|col):(\w+)\}", formula)
            if "{points}" in formula:
                todo += points
            if "{adj}" in formula:
                todo += adjust
        return frozenset(found)

    def columns(self) -> list[tuple[str, str, str]]:
        """Every 考核 column in sheet order as ``(key, header, role)``; inputs have role
        ``"input"``."""
        out = [(spec.key, spec.header, "input") for spec in self.inputs]
        out += [(calc.key, calc.header, role) for role, calc in self.sheet_calcs()]
        return out

    @property
    def grade_rule(self) -> str:
        """Grade bands in the notation, e.g. ``[90,100]:高级客服; [80,90):中级客服; <70:不合格``."""
        parts: list[str] = []
        upper: float | None = None
        for band in self.grades:
            if band.low is None:
                parts.append(f"<{_num(upper)}:{band.label}")
            elif upper is None:
                top = f"≥{_num(band.low)}" if self.grade_open_top else (
                    f"[{_num(band.low)},{_num(self.max_score)}]")
                parts.append(f"{top}:{band.label}")
            else:
                parts.append(f"[{_num(band.low)},{_num(upper)}):{band.label}")
            upper = band.low
        return "; ".join(parts)

    def grade_of(self, score: float) -> str:
        """The band a score falls in (for generating history rows, not for scoring)."""
        for band in self.grades:
            if band.low is None or score >= band.low:
                return band.label
        return self.grades[-1].label

    @property
    def weighted(self) -> bool:
        return any(item.weight is not None for item in self.items)


ROLE_ORDER = ("lookup", "value", "points", "adjust", "score", "grade", "pay")
"""Order of the computed column groups of 考核."""
FMT_POINTS = "0.0"
FMT_SCORE = "0.00"


def points_formula(item: Item) -> str:
    """The formula template of an item's points column."""
    if item.points is not None:
        return item.points
    return f"KPI_TIER({{c:{item.value}}},{{rule:{item.key}}})"


def item_points_header(item: Item) -> str:
    return f"{item.name}得分"


def item_label(item: Item) -> str:
    """The item's label in column B of 规则 (``成交额完成度(X)``, ``… ↓`` when lower is better)."""
    name = f"{item.name}({item.symbol})" if item.symbol else item.name
    return name + " ↓" if item.lower_is_better else name


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class SampleRow:
    """What a sample function sees: the agent, the tier values drawn for each item, helpers."""

    rng: random.Random
    index: int
    team: str
    tiers: dict[str, object]
    inputs: dict[str, Input]
    values: dict[str, object] = field(default_factory=dict)
    _busy: set[str] = field(default_factory=set)

    def __getitem__(self, key: str) -> object:
        """The sample value of input ``key`` (drawn on first use, so order does not matter)."""
        if key not in self.values:
            if key in self._busy:
                raise ValueError(f"sample cycle at {key}")
            self._busy.add(key)
            fn = self.inputs[key].sample
            self.values[key] = fn(self) if fn is not None else None
            self._busy.discard(key)
        return self.values[key]

    def num(self, key: str) -> float:
        value = self[key]
        if not isinstance(value, int | float):
            raise TypeError(f"{key} is not a number: {value!r}")
        return float(value)

    def item(self, key: str) -> object:
        """The value drawn for item ``key`` inside its tier."""
        return self.tiers[key]

    def uniform(self, low: float, high: float, step: float = 1) -> float:
        """A value in ``[low, high]`` on a grid of ``step``."""
        count = round((high - low) / step)
        value = low + step * self.rng.randint(0, count)
        return int(value) if float(step).is_integer() else round(value, 6)

    def every(self, n: int) -> bool:
        """True for every ``n``-th agent (used to fill optional "可直接填" columns)."""
        return self.index % n == n - 1

    def tier_range(self, key: str) -> tuple[float, float]:
        """The ``(low, high)`` sample range of the tier drawn for item ``key``."""
        value = self.tiers[f"{key}@range"]
        assert isinstance(value, tuple)
        return value

    def denominator(self, numerator: float, key: str) -> int:
        """A whole denominator ``n`` with ``numerator / n`` inside item ``key``'s drawn tier."""
        low, high = self.tier_range(key)
        target = float(self.item(key))  # type: ignore[arg-type]
        guess = max(1, round(numerator / target))
        for step in range(0, 50):
            for n in (guess + step, guess - step):
                if n > 0 and low <= numerator / n <= high:
                    return n
        return guess

    def numerator(self, denominator: float, key: str) -> int:
        """A whole numerator ``m`` with ``m / denominator`` inside item ``key``'s drawn tier."""
        low, high = self.tier_range(key)
        target = float(self.item(key))  # type: ignore[arg-type]
        guess = round(denominator * target)
        for step in range(0, 50):
            for m in (guess + step, guess - step):
                if m >= 0 and low <= m / denominator <= high:
                    return m
        return guess
