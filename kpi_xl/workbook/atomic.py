"""Saving a workbook safely: Excel-lock check, inter-process lock, atomic replace with .bak.

* :func:`check_not_open_in_excel` refuses when Excel's owner file ``~$<name>`` sits next to the
  workbook (Excel holds the file; a save behind its back would be lost or clash).
* :func:`workbook_lock` serialises read-modify-save cycles of several processes on one
  workbook with ``fcntl.flock`` on a sidecar ``.<name>.kpi-xl.lock`` (waits up to ``timeout``).
* :func:`atomic_write` writes a temp file in the same folder, fsyncs it, keeps the previous
  file as ``<name>.bak`` and renames the temp file over the workbook: whatever happens, the
  workbook path holds either the old or the new complete file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kpi_xl.core.errors import KpiError

TEMP_SUFFIX = ".kpi-xl.tmp"
STALE_TEMP_SECONDS = 3600


class WorkbookBusy(KpiError):
    """The workbook is open in Excel, or another kpi-xl process is writing it."""

    code = "#BUSY!"


def excel_owner_file(path: str | os.PathLike[str]) -> Path:
    """Where Excel puts its owner ("lock") file while it has ``path`` open."""
    path = Path(path)
    return path.with_name(f"~${path.name}")


def check_not_open_in_excel(path: str | os.PathLike[str]) -> None:
    """Raise :class:`WorkbookBusy` if Excel's ``~$<name>`` owner file exists beside ``path``."""
    owner = excel_owner_file(path)
    if owner.exists():
        raise WorkbookBusy(
            f"工作簿正在 Excel 中打开 ({owner.name} 存在), 请先关闭",
            f"workbook is open in Excel ({owner.name} exists); close it first",
        )


def lock_file(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.kpi-xl.lock")


@contextmanager
def workbook_lock(
    path: str | os.PathLike[str],
    timeout: float = 30.0,
    *,
    check_excel: bool = True,
    poll: float = 0.05,
) -> Iterator[Path]:
    """Hold an exclusive inter-process lock on ``path`` for a read-modify-save cycle.

    Waits up to ``timeout`` seconds for another holder, then raises :class:`WorkbookBusy`.
    The sidecar lock file is removed on release; a holder that finds the file it locked was
    removed or replaced meanwhile starts over, so deleting the file never lets two in.
    Not re-entrant: nesting it for the same path in one process waits for itself.
    """
    if check_excel:
        check_not_open_in_excel(path)
    target = lock_file(path)
    fd = _acquire(target, time.monotonic() + timeout, poll)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield target
    finally:
        _release(target, fd)


def _acquire(target: Path, deadline: float, poll: float) -> int:
    while True:
        fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise WorkbookBusy(
                    "另一个 kpi-xl 进程正在更新此工作簿, 请稍后再试",
                    "another kpi-xl process is updating this workbook; try again later",
                ) from None
            time.sleep(poll)
            continue
        if _same_file(fd, target):
            return fd
        os.close(fd)  # we locked a file that was removed meanwhile: start over


def _same_file(fd: int, target: Path) -> bool:
    try:
        on_disk = os.stat(target)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _release(target: Path, fd: int) -> None:
    try:
        if _same_file(fd, target):
            os.unlink(target)  # still holding the lock: waiters will notice and start over
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    *,
    backup: bool = True,
) -> Path:
    """Write ``path`` through ``write(stream)`` so that it is replaced all at once.

    The previous file (if any) is kept as ``<name>.bak``. Refuses when Excel has the file open.
    """
    path = Path(path)
    check_not_open_in_excel(path)
    directory = path.parent if str(path.parent) else Path(".")
    _remove_stale_temps(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, _mode_for(path))
        if backup and path.exists():
            _keep_backup(path)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return path


def backup_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path.with_name(f"{path.name}.bak")


def _keep_backup(path: Path) -> None:
    """Make ``<name>.bak`` the current file, itself replaced atomically (hard link if possible).

    A save killed between its two renames leaves ``.bak`` a hard link of the workbook itself.
    Renaming the staged link onto it would then be a no-op (POSIX ``rename`` of one link of a
    file onto another link of the same file does nothing, so the staging file would stay), so
    such a ``.bak`` is unlinked first: the workbook still holds the same bytes meanwhile.
    """
    bak = backup_path(path)
    staging = path.with_name(f".{path.name}.bak{TEMP_SUFFIX}")
    staging.unlink(missing_ok=True)
    if _same_inode(bak, path):
        bak.unlink()
    try:
        os.link(path, staging)
    except OSError:
        shutil.copy2(path, staging)
    os.replace(staging, bak)
    staging.unlink(missing_ok=True)  # only there if the rename was a no-op after all


def _same_inode(one: Path, other: Path) -> bool:
    try:
        a, b = os.stat(one), os.stat(other)
    except FileNotFoundError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _mode_for(path: Path) -> int:
    """Keep the workbook's permission bits (mkstemp creates 0600); new files get 0666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove_stale_temps(path: Path) -> None:
    """Remove temp files an earlier, killed save left behind (older than an hour)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in path.parent.glob(f".{_glob_escape(path.name)}.*{TEMP_SUFFIX}"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
