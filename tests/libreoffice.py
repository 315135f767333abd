"""LibreOffice headless for the tests: convert workbooks (xlsx → xlsx / pdf), optionally
recalculating every formula on load.

Measured on LibreOffice 7.4 (see ``shared/notes/spreadsheet-engines.md``): ``--convert-to``
recalculates only cells without a cached value unless the user profile sets
``/org.openoffice.Office.Calc/Formula/Load`` → ``OOXMLRecalcMode`` (and ``ODFRecalcMode``) to
0 ("always"). Each call gets its own fresh profile directory, so parallel runs never clash on
the profile lock, and the profile is removed afterwards.

A test module that needs LibreOffice calls :func:`require_soffice` (or uses
:data:`needs_soffice` as a mark); without ``soffice`` on ``PATH`` the test is skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

DEFAULT_TIMEOUT = 300.0
"""Seconds one ``soffice`` run may take (startup alone is about 1 s; a month about 3 s)."""

RECALC_ALWAYS_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
"""A ``registrymodifications.xcu`` that makes Calc recalculate every formula on load."""

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                   reason="LibreOffice (soffice) not installed")
"""Mark for tests or modules that run LibreOffice."""


class ConversionError(AssertionError):
    """``soffice`` failed, timed out, or did not write every expected output file."""


def require_soffice() -> str:
    """The ``soffice`` path; skips the calling test when LibreOffice is not installed."""
    path = shutil.which("soffice")
    if path is None:
        pytest.skip("LibreOffice (soffice) not installed")
    return path


def make_profile(directory: Path, *, recalc_always: bool = True) -> str:
    """Create a user profile in ``directory``; returns its ``-env:UserInstallation`` URL.

    With ``recalc_always`` the profile makes Calc recompute every formula when it loads a
    file, whatever cached values the file holds.
    """
    user = directory / "user"
    user.mkdir(parents=True, exist_ok=True)
    if recalc_always:
        (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS_XCU, encoding="utf-8")
    return directory.resolve().as_uri()


def convert(inputs: Path | Iterable[Path], target: str, outdir: Path, *,
            recalc_always: bool = True, timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """Convert each of ``inputs`` to ``target`` (``"xlsx"``, ``"pdf"`` …) in ``outdir``.

    One ``soffice`` run with a fresh profile (deleted afterwards). Returns the output paths,
    in input order (``outdir/<stem>.<ext>``); raises :class:`ConversionError` if soffice
    fails, times out or leaves an output missing. The inputs should not live in ``outdir``
    when converting to their own format (the output would overwrite the input). Skips the
    calling test when LibreOffice is not installed.
    """
    sources: Sequence[Path] = [inputs] if isinstance(inputs, Path) else list(inputs)
    if not sources:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    extension = target.split(":", 1)[0]
    outputs = [outdir / f"{source.stem}.{extension}" for source in sources]
    for source, output in zip(sources, outputs, strict=True):
        if source.resolve() == output.resolve():
            raise ValueError(f"converting {source} into {outdir} would overwrite it")
        output.unlink(missing_ok=True)
    profile_dir = Path(tempfile.mkdtemp(prefix="kpi-xl-lo-profile-"))
    try:
        profile = make_profile(profile_dir, recalc_always=recalc_always)
        command = [require_soffice(), "--headless", "--norestore", "--nologo",
                   f"-env:UserInstallation={profile}", "--convert-to", target,
                   "--outdir", str(outdir), *map(str, sources)]
        returncode, stdout, stderr = _run(command, timeout)
    finally:
        shutil.rmtree(profile_dir, ignore_errors=True)
    missing = [path.name for path in outputs if not path.exists()]
    if returncode != 0 or missing:
        raise ConversionError(f"soffice exit {returncode}, missing {missing}\n"
                              f"stdout: {stdout}\nstderr: {stderr}")
    return outputs


def _run(command: list[str], timeout: float) -> tuple[int, str, str]:
    """Run soffice in its own process group; on timeout the whole group (the wrapper script,
    oosplash and soffice.bin) is killed."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise ConversionError(f"soffice timed out after {timeout:.0f} s: {command}") from exc
    return process.returncode, stdout, stderr


def recalculated_copy(source: Path, outdir: Path, *,
                      timeout: float = DEFAULT_TIMEOUT) -> Path:
    """``source`` opened in LibreOffice with every formula recomputed, saved as xlsx in
    ``outdir``; read the results as cached values (``openpyxl`` ``data_only=True``)."""
    return convert(source, "xlsx", outdir, recalc_always=True, timeout=timeout)[0]
