"""Static checks of the installers (no Windows/macOS here; see docs/INSTALL.md "Manual check").

install.ps1 is parsed by PowerShell's own parser when ``pwsh`` is on PATH; otherwise a small
tokenizer checks that brackets balance outside strings and comments, and the tests check the
parameters, paths and settings the add-in relies on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kpi_xl.addin import build as addin_build

ROOT = Path(__file__).resolve().parents[1]
PS1 = ROOT / "install" / "windows" / "install.ps1"
BAT = ROOT / "install" / "windows" / "install.bat"
SH = ROOT / "install" / "macos" / "install.sh"


def _ps1_text() -> str:
    return PS1.read_bytes().decode("utf-8-sig")


def _ps_code_only(text: str) -> str:
    """PowerShell source with comments and string contents removed (brackets kept)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("<#", i):
            end = text.find("#>", i + 2)
            assert end != -1, "unterminated block comment"
            i = end + 2
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith(('@"\n', "@'\n", '@"\r\n', "@'\r\n"), i):
            close = "\n" + text[i + 1] + "@"
            end = text.replace("\r\n", "\n").find(close, i)
            assert end != -1, "unterminated here-string"
            i = end + len(close)
            out.append('""')
        elif ch == "'":
            j = i + 1
            while True:
                assert j < n, "unterminated single-quoted string"
                if text[j] == "'" and text[j + 1 : j + 2] == "'":
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    j += 1
            i = j + 1
            out.append("''")
        elif ch == '"':
            j = i + 1
            while True:
                assert j < n, "unterminated double-quoted string"
                if text[j] == "`":
                    j += 2
                elif text[j] == '"':
                    break
                else:
                    j += 1
            i = j + 1
            out.append('""')
        elif ch == "`":
            out.append(text[i : i + 2])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def test_ps1_brackets_balance_outside_strings_and_comments() -> None:
    code = _ps_code_only(_ps1_text())
    pairs = {")": "(", "}": "{", "]": "["}
    stack: list[tuple[str, int]] = []
    for lineno, line in enumerate(code.splitlines(), start=1):
        for ch in line:
            if ch in "({[":
                stack.append((ch, lineno))
            elif ch in pairs:
                assert stack and stack[-1][0] == pairs[ch], f"unbalanced {ch!r} at line {lineno}"
                stack.pop()
    assert not stack, f"unclosed {stack[-1][0]!r} from line {stack[-1][1]}"


def test_ps1_with_pwsh_parser_when_available() -> None:
    pwsh = shutil.which("pwsh")
    if not pwsh:
        pytest.skip("pwsh not installed (not packaged for Debian); see docs/INSTALL.md")
    script = (
        "$e = $null; $t = $null; "
        f"[System.Management.Automation.Language.Parser]::ParseFile('{PS1}', [ref]$t, [ref]$e)"
        " | Out-Null; if ($e.Count) { $e | ForEach-Object { $_.ToString() }; exit 1 }"
    )
    result = subprocess.run(
        [pwsh, "-NoProfile", "-Command", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ps1_is_utf8_with_bom_and_crlf() -> None:
    raw = PS1.read_bytes()
    # Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page: Chinese text breaks
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_ps1_param_block_and_uninstall_path() -> None:
    text = _ps1_text()
    param = re.search(r"\[CmdletBinding\(\)\]\s*param\((.*?)\n\)", text, re.S)
    assert param, "no param block"
    for decl in (
        "[string]$Package",
        "[string]$Python",
        "[switch]$TrustVbaProject",
        "[switch]$Uninstall",
    ):
        assert decl in param.group(1)
    assert "if ($Uninstall) { Uninstall-KpiXl } else { Install-KpiXl }" in text
    body = text.split("function Uninstall-KpiXl", 1)[1]
    for var in ("$AddinTarget", "$ConfDir", "$AppDir", "AccessVBOM"):
        assert var in body, f"-Uninstall does not remove {var}"
    defined = set(re.findall(r"^function ([\w-]+)", text, re.M))
    called = set(
        re.findall(
            r"\b((?:Install|Uninstall|Assert|Invoke|Test|Find|Resolve|Add|Write)"
            r"-(?:KpiXl|ExcelClosed|Checked|PythonCommand|BasePython|Package|"
            r"ManifestLine|Step))\b",
            text,
        )
    )
    assert called <= defined, called - defined


def test_ps1_paths_and_settings_match_the_addin() -> None:
    text = _ps1_text()
    assert 'Join-Path $env:LOCALAPPDATA "kpi_xl"' in text
    assert 'Join-Path $AppDir "venv"' in text
    assert 'Join-Path $env:APPDATA "Microsoft\\Excel\\XLSTART"' in text
    # the add-in's VBA reads %USERPROFILE%\.<PROJECT_NAME>\<PROJECT_NAME>.conf
    project = addin_build.PROJECT_NAME
    assert f'Join-Path $env:USERPROFILE ".{project}"' in text
    assert f'Join-Path $ConfDir "{project}.conf"' in text
    assert f'$InterpreterSetting = "{addin_build.INTERPRETER_WIN}"' in text
    assert f'$UdfModules = "{addin_build.UDF_MODULES}"' in text
    assert '`"INTERPRETER_WIN`"' in text and '`"UDF MODULES`"' in text
    assert '"addin-requirements.txt"' in text and '"-r", $Requirements' in text
    assert "Unblock-File" in text


def test_bat_calls_the_ps1_with_bypass() -> None:
    raw = BAT.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b""), "install.bat needs CRLF line ends"
    text = raw.decode("ascii")
    assert 'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*' in text


def test_install_sh_syntax() -> None:
    subprocess.run(["bash", "-n", str(SH)], check=True)


def test_install_sh_shellcheck() -> None:
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    result = subprocess.run(["shellcheck", str(SH)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_install_sh_uninstall_runs_in_an_empty_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".kpi_xl" / "venv").mkdir(parents=True)
    env = {**os.environ, "HOME": str(home)}
    result = subprocess.run(
        ["bash", str(SH), "--uninstall"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert not (home / ".kpi_xl").exists()
    again = subprocess.run(["bash", str(SH), "--uninstall"], env=env, capture_output=True)
    assert again.returncode == 0  # idempotent


def test_install_sh_mentions_runpython_and_no_udfs() -> None:
    text = SH.read_text(encoding="utf-8")
    assert 'xlwings" runpython install' in text
    assert "INTERPRETER_MAC" in text
    assert "Windows-only" in text and "xlwings Lite" in text
