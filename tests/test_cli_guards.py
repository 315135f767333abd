"""The ``kpi-xl`` command meeting HR's slips: a month created over an existing one, a path that
is a folder, a legacy .xls, a workbook open in Excel, a wrong argument count. Each is refused
with a message in Chinese (English in brackets) and a non-zero exit, and nothing is written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kpi_xl.cli import main
from kpi_xl.workbook.ooxml import LEGACY_XLS_MAGIC


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def month(tmp_path: Path) -> Path:
    path = tmp_path / "2026-11.xlsx"
    assert main(["new", "taobao-cs", str(path), "--month", "2026-11", "--no-lite"]) == 0
    return path


def test_new_refuses_to_overwrite_a_month(month: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    before = _digest(month)
    assert main(["new", "medal", str(month), "--month", "2026-12", "--no-lite"]) == 1
    assert "已存在, 未写入: 要覆盖请加 --force" in capsys.readouterr().err
    assert _digest(month) == before


def test_new_with_force_keeps_the_old_month_as_bak(month: Path) -> None:
    before = _digest(month)
    assert main(["new", "medal", str(month), "--month", "2026-12", "--no-lite",
                 "--force"]) == 0
    assert _digest(month.with_name(month.name + ".bak")) == before
    assert _digest(month) != before


def test_new_refuses_a_month_open_in_excel_even_with_force(
        month: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(month)
    month.with_name(f"~${month.name}").write_bytes(b"owner")
    assert main(["new", "medal", str(month), "--no-lite", "--force"]) == 1
    assert "工作簿正在 Excel 中打开" in capsys.readouterr().err
    assert _digest(month) == before


@pytest.mark.parametrize("typed", ["2026年11月", "2026/11", "202611", "2026-11"])
def test_new_reads_the_month_as_refresh_does(tmp_path: Path, typed: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "taobao-cs", str(tmp_path / "m.xlsx"), "--month", typed,
                 "--no-lite"]) == 0
    assert "(taobao-cs, 2026-11)" in capsys.readouterr().out


@pytest.mark.parametrize("extra", [["--history", "3"], ["--agents", "5"]])
def test_sample_options_need_sample(tmp_path: Path, extra: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "taobao-cs", str(tmp_path / "m.xlsx"), *extra]) == 1
    assert "请同时使用 --sample" in capsys.readouterr().err
    assert not (tmp_path / "m.xlsx").exists()


@pytest.mark.parametrize("name", ["2026-11", "2026-11.xls", "2026-11.csv"])
def test_new_writes_only_an_xlsx(tmp_path: Path, name: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "taobao-cs", str(tmp_path / name), "--no-lite"]) == 1
    assert "输出文件应以 .xlsx 结尾" in capsys.readouterr().err
    assert not (tmp_path / name).exists()


def test_a_negative_history_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["new", "taobao-cs", str(tmp_path / "m.xlsx"), "--sample", "--history", "-2"])
    assert exit_.value.code == 2


def _legacy_xls(tmp_path: Path) -> Path:
    path = tmp_path / "old.xls"
    path.write_bytes(LEGACY_XLS_MAGIC + bytes(500))
    return path


@pytest.mark.parametrize("command", ["refresh", "recalc", "import", "lite-embed"])
@pytest.mark.parametrize(("make", "said"), [
    (lambda tmp: tmp / "nosuch.xlsx", "找不到工作簿"),
    (lambda tmp: tmp, "是文件夹, 不是工作簿"),
    (_legacy_xls, "是旧版 .xls 文件, 请在 Excel 中另存为 .xlsx"),
])
def test_a_book_that_is_not_a_workbook_is_named_in_chinese(
        tmp_path: Path, command: str, make: object, said: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    book = make(tmp_path)  # type: ignore[operator]
    export = tmp_path / "export.csv"
    export.write_text("工号,咨询人数\nKF001,10\n", encoding="utf-8")
    extra = [str(export)] if command == "import" else []
    assert main([command, str(book), *extra]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_lite_embed_refuses_a_workbook_open_in_excel(month: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = _digest(month)
    month.with_name(f"~${month.name}").write_bytes(b"owner")
    assert main(["lite-embed", str(month)]) == 1
    assert "工作簿正在 Excel 中打开" in capsys.readouterr().err
    assert _digest(month) == before


def test_recalc_out_in_a_missing_folder_is_named(month: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = month.parent / "nod" / "copy.xlsx"
    assert main(["recalc", str(month), "--out", str(out)]) == 1
    assert f"--out 的文件夹不存在: {out.parent}" in capsys.readouterr().err


def test_fn_with_a_wrong_argument_count_lists_the_parameters(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fn", "KPI_TIER", "0.47"]) == 2
    assert capsys.readouterr().err.startswith(
        "KPI_TIER 的参数个数不对, 应为 value, rule; 收到 1 个")
