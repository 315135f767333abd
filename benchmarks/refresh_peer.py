"""The headless refresh end to end against the plain-formula workbook in LibreOffice.

For one month size: the taobao-cs month (:func:`s1_month.write_kpi_month`) refreshed by
``kpi-xl refresh`` (read, recalculate, pay, write 工资/明细/历史/异常/概览, save) against the
same inputs with plain Excel formulas (:func:`s1_month.write_plain_month`) recalculated by
LibreOffice headless (recalc-on-load "always", ``--convert-to xlsx``). Each run gets a fresh
copy of the generated file; times and peak memory come from :mod:`timed` (a fresh process per
run, start-up included on both sides).

:func:`compare` then reads both results (openpyxl, cached values) and checks, per agent, every
number both compute: the eight KPI points, the KPI score, the grade, and the pay lines 薪资,
岗位奖金, 餐补, 全勤奖, 团队超额奖金, 扣款, 应发工资 — identical, explained (the one rule the two
workbooks define differently: how a team's pool is rounded into shares, see
:class:`Comparison`) or a mismatch.

Run alone: ``python benchmarks/refresh_peer.py 10000 [--runs 3] [--keep DIR]
[--no-libreoffice]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import s1_month  # noqa: E402
from timed import Measurement, measure  # noqa: E402

POINTS = ("成交额完成度得分", "询单转化率得分", "客单价得分", "旺旺回复率得分", "旺旺响应时间得分",
          "协助跟进服务得分", "执行力得分", "满意度得分")
SCORE, GRADE = "KPI得分", "等级"
PAY = ("薪资", "岗位奖金", "餐补", "全勤奖", "团队超额奖金", "扣款", "应发工资")
CENT = Decimal("0.01")


def soffice_available() -> bool:
    return shutil.which("soffice") is not None


@dataclass
class Comparison:
    """Per-agent comparison of kpi_xl's refresh and the plain workbook in LibreOffice.

    A difference is *explained* when it is the one the two workbooks define differently:
    团队超额奖金 — kpi_xl (``KPI_SHARE``) splits each team's pool by largest remainder so the
    parts sum to the pool to the fen, the plain formula rounds each share on its own — checked
    agent by agent against an exact split computed here (fractions, not floats), and what
    follows from it for that agent (:func:`_explained`: a 扣款 capped at 20 % of the gross,
    应发工资). Anything else is a *mismatch*.
    """

    agents: int = 0
    compared: int = 0
    mismatches: Counter[str] = field(default_factory=Counter)
    explained: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[str, str, object, object]] = field(default_factory=list)
    """(工号, field, kpi_xl, LibreOffice) for the first few differences of each field."""
    teams: int = 0
    teams_exact_kpi: int = 0
    """Teams whose kpi_xl 团队超额奖金 parts sum exactly to the team's pool."""
    teams_exact_round: int = 0
    """Teams whose ROUNDed shares (the plain workbook) sum exactly to the pool."""

    @property
    def mismatch_count(self) -> int:
        return sum(self.mismatches.values())

    def summary(self) -> str:
        fields = len(POINTS) + 2 + len(PAY)
        identical = self.compared - self.mismatch_count - sum(self.explained.values())
        text = (f"{self.compared:,} values compared ({self.agents:,} agents × {fields}): "
                f"{identical:,} identical, {self.mismatch_count} mismatches")
        if self.mismatches:
            text += " (" + ", ".join(f"{k} {v}" for k, v in self.mismatches.items()) + ")"
        if self.explained:
            text += ("; rounding method, explained: " +
                     ", ".join(f"{k} {v}" for k, v in self.explained.items()) +
                     f" (team pools split exactly by kpi_xl in {self.teams_exact_kpi}/"
                     f"{self.teams} teams, by ROUND shares in {self.teams_exact_round}/"
                     f"{self.teams})")
        return text


def _rows(path: Path, sheet: str, header_row: int = 4) -> dict[str, dict[str, object]]:
    """Key (first column) → {header: value} for the rows below ``header_row`` (cached)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book[sheet].iter_rows(min_row=header_row, values_only=True)
        headers = [str(h) if h is not None else "" for h in next(rows)]
        out = {}
        for row in rows:
            if row and row[0] not in (None, ""):
                out[str(row[0])] = dict(zip(headers, row, strict=False))
        return out
    finally:
        book.close()


def _shown(value: object) -> object:
    """A number as Excel shows and stores it (15 significant digits); other values as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.15g}"
    return value


def _money(value: object) -> Decimal | object:
    """An amount to the fen (half up, on the 15-digit decimal); blank = 0."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(f"{float(value):.15g}").quantize(CENT, rounding=ROUND_HALF_UP)
    return value


def _exact(value: object) -> Fraction:
    return Fraction(Decimal(f"{float(value):.15g}"))  # type: ignore[arg-type]


def _team_splits(plain_book: Path, plain: dict[str, dict[str, object]]
                 ) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[str, list[str]],
                            dict[str, Decimal]]:
    """Per agent the exact largest-remainder part and the exactly ROUNDed share of the team
    pool (the pools as the plain workbook computed them); the teams' members and pools."""
    pools = {team: _money(row["团队超额奖金池"])
             for team, row in _rows(plain_book, "团队", header_row=1).items()}
    members: dict[str, list[str]] = {}
    for agent, row in plain.items():
        members.setdefault(str(row["团队"]), []).append(agent)
    largest: dict[str, Decimal] = {}
    rounded: dict[str, Decimal] = {}
    for team, agents in members.items():
        cents = int(pools[team] * 100)  # type: ignore[operator]
        sales = [_exact(plain[a]["实际销售额"]) for a in agents]
        total = sum(sales, Fraction(0))
        quotas = [cents * s / total for s in sales]
        floors = [q.numerator // q.denominator for q in quotas]
        order = sorted(range(len(agents)), key=lambda i: (-(quotas[i] - floors[i]), i))
        for i in order[:cents - sum(floors)]:
            floors[i] += 1
        for agent, part, quota in zip(agents, floors, quotas, strict=True):
            largest[agent] = Decimal(part) / 100
            rounded[agent] = (Decimal(quota.numerator) / Decimal(quota.denominator)
                              ).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 100
    return largest, rounded, members, pools  # type: ignore[return-value]


def compare(kpi_book: Path, plain_book: Path, examples_per_field: int = 3) -> Comparison:
    """Compare kpi_xl's refreshed month with LibreOffice's recalculated plain month."""
    assessment = _rows(kpi_book, "考核")
    pay = _rows(kpi_book, "工资")
    plain = _rows(plain_book, "考核")
    largest, rounded, members, pools = _team_splits(plain_book, plain)
    result = Comparison(agents=len(plain), teams=len(members))
    for team, agents in members.items():
        result.teams_exact_kpi += sum(_money(pay.get(a, {}).get("团队超额奖金"))
                                      for a in agents) == pools[team]  # type: ignore[misc]
        result.teams_exact_round += sum(rounded[a] for a in agents) == pools[team]
    for agent, theirs in plain.items():
        ours = {**assessment.get(agent, {}), **pay.get(agent, {})}
        gap = {name: _money(ours.get(name)) - _money(theirs.get(name))  # type: ignore[operator]
               for name in PAY}
        for name in (*POINTS, SCORE, GRADE, *PAY):
            mine, other = ours.get(name), theirs.get(name)
            result.compared += 1
            if name in PAY:
                if gap[name] == 0:
                    continue
                explained = gap["团队超额奖金"] != 0 and _explained(name, agent, ours, theirs,
                                                                 gap, largest, rounded)
            elif _shown(mine) == _shown(other):
                continue
            else:
                explained = False
            counter = result.explained if explained else result.mismatches
            counter[name] += 1
            if counter[name] <= examples_per_field:
                result.examples.append((agent, name, mine, other))
    return result


def _explained(name: str, agent: str, ours: dict[str, object], theirs: dict[str, object],
               gap: dict[str, Decimal], largest: dict[str, Decimal],
               rounded: dict[str, Decimal]) -> bool:
    """Whether a pay difference is the 团队超额奖金 rounding method and what follows from it:
    the bonus itself (kpi_xl = the exact largest-remainder part, the plain workbook = the
    exactly rounded share, 1 fen apart), a 扣款 capped at 20 % of a gross pay that includes
    the bonus (each side = ROUND(20 % × its own gross, 2)), and 应发工资 (gross − 扣款)."""
    if name == "团队超额奖金":
        return (_money(ours.get(name)) == largest[agent]
                and _money(theirs.get(name)) == rounded[agent] and abs(gap[name]) == CENT)
    if name == "扣款":
        lines = PAY[:5]
        for side in (ours, theirs):
            gross = sum((_money(side.get(line)) for line in lines), Decimal(0))  # type: ignore[misc]
            cap = (gross * Decimal(str(s1_month.DEDUCTION_CAP))).quantize(
                CENT, rounding=ROUND_HALF_UP)
            if _money(side.get(name)) != cap:
                return False
        return True
    if name == "应发工资":
        return gap[name] == gap["团队超额奖金"] - gap["扣款"]
    return False


@dataclass
class PeerRun:
    """Figures for one month size."""

    agents: int
    kpi: list[Measurement]
    libreoffice: list[Measurement]
    comparison: Comparison | None = None
    note: str = ""

    @staticmethod
    def median(runs: list[Measurement]) -> float | None:
        return statistics.median(m.seconds for m in runs) if runs else None


def run_size(agents: int, workdir: Path, *, kpi_runs: int, lo_runs: int, check: bool,
             seed: int = s1_month.DEFAULT_SEED, lo_timeout: float = 1800.0) -> PeerRun:
    """Generate the month, time ``kpi_runs`` refreshes and ``lo_runs`` LibreOffice
    recalculations of it, and (``check``) compare the last results of both."""
    data = s1_month.generate(agents, seed)
    source = s1_month.write_kpi_month(data, workdir / f"kpi-{agents}.xlsx")
    plain = s1_month.write_plain_month(data, workdir / f"plain-{agents}.xlsx")
    refreshed = workdir / f"kpi-{agents}-refreshed.xlsx"
    kpi_times = []
    for _ in range(kpi_runs):
        shutil.copyfile(source, refreshed)
        kpi_times.append(measure("refresh", refreshed))
    lo_times: list[Measurement] = []
    outdir = workdir / "libreoffice"
    note = ""
    if lo_runs and not soffice_available():
        note = "LibreOffice not run: soffice not installed"
    for _ in range(lo_runs if soffice_available() else 0):
        try:
            lo_times.append(measure("libreoffice", plain, outdir, lo_timeout,
                                    timeout=lo_timeout + 60))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            note = (f"LibreOffice not run to the end (limit {lo_timeout:.0f} s): "
                    f"{str(exc).strip().splitlines()[-1][:200]}")
            break
    comparison = None
    if check and kpi_times and lo_times and not note:
        comparison = compare(refreshed, outdir / plain.name)
    return PeerRun(agents, kpi_times, lo_times, comparison, note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agents", type=int, nargs="?", default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per side (median)")
    parser.add_argument("--keep", type=Path, help="keep the workbooks in this folder")
    parser.add_argument("--no-libreoffice", action="store_true", help="time kpi_xl only")
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="kpi-xl-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        run = run_size(args.agents, workdir, kpi_runs=args.runs,
                       lo_runs=0 if args.no_libreoffice else args.runs, check=True)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    kpi, lo = PeerRun.median(run.kpi), PeerRun.median(run.libreoffice)
    print(f"{run.agents:,} agents: kpi-xl refresh {kpi:.2f} s (peak "
          f"{max(m.peak_mib for m in run.kpi):.0f} MiB)", end="")
    if lo is not None:
        print(f"; LibreOffice {lo:.2f} s (peak {max(m.peak_mib for m in run.libreoffice):.0f}"
              f" MiB); LibreOffice / kpi_xl = {lo / kpi:.2f}")
    else:
        print(f"; {run.note}")
    if run.comparison is not None:
        print(run.comparison.summary())
        for example in run.comparison.examples:
            print("  ", example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
