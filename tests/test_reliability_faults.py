"""Fault injection on save: SIGKILL the headless refresh at random moments (≥ 50 kills).

A refresh runs in its own process and is killed at a seeded random moment; afterwards the
workbook on disk must be either byte-identical to the old file or the complete new one (it
opens with read_book and its 工资 equals a reference refresh) — never anything else; the
``.bak`` is absent or the old file; leftover temp files appear only when a kill landed inside
a save, and the cleanup policy (``atomic._remove_stale_temps``: temps older than an hour go at
the next save) removes them; the lock a killed process held never blocks the next refresh.

To afford ≥ 50 kills in seconds, a small server process imports kpi_xl once and forks one
child per refresh (the child is the process killed, so start-up imports are not what is being
tested — they touch no file). The child prints ``saving``/``saved`` around the atomic save
(test instrumentation wrapped around ``atomic_write``), which tells where each kill landed.
Kills are spread uniformly over the whole measured refresh, plus a series aimed at the save.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kpi_xl.workbook.atomic import STALE_TEMP_SECONDS, TEMP_SUFFIX, lock_file
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import backup_path, read_book
from tests.test_reliability_corpus import BASE, pay_records

REPO = Path(__file__).resolve().parents[1]
SEED = 20261127
UNIFORM_KILLS = 50
SAVE_KILLS = 20

SERVER = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {repo!r})
    from kpi_xl.workbook import xlsx_write
    from kpi_xl.workbook.refresh import refresh_file

    original = xlsx_write.atomic_write

    def say(text):
        # one write(2) per line: a child killed mid-line would glue half a marker to the
        # server's next line ("savingexit 9"), which print() can do (text, then newline)
        os.write(1, (text + "\\n").encode())

    def traced(*args, **kwargs):
        say("saving")
        result = original(*args, **kwargs)
        say("saved")
        return result

    xlsx_write.atomic_write = traced
    say("ready")
    for line in sys.stdin:
        path = line.strip()
        pid = os.fork()
        if pid == 0:
            try:
                refresh_file(path)
                say("done")
                os._exit(0)
            except BaseException as error:
                say(f"error {{error!r}}")
                os._exit(1)
        say(f"pid {{pid}}")
        _, status = os.waitpid(pid, 0)
        say(f"exit {{status}}")
    """
)


@dataclass
class Run:
    """One forked refresh: its output lines and how it ended."""

    lines: list[str]
    status: int
    seconds: float

    @property
    def phase(self) -> str:
        """Where the kill landed, from the last marker the child printed."""
        if "done" in self.lines:
            return "finished"
        if "saved" in self.lines:
            return "after save"
        if "saving" in self.lines:
            return "mid-save"
        return "before save"


class Server:
    """The fork server: ``run(path, delay)`` refreshes ``path`` in a fresh child process and
    SIGKILLs it after ``delay`` seconds (``None``: never; ``"save"`` + delay: after it starts
    saving)."""

    def __init__(self) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER.format(repo=str(REPO))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1, env=env)
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return line.strip()

    def run(self, path: Path, delay: float | None, *, after_save_starts: bool = False) -> Run:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        first = self.readline()
        assert first.startswith("pid "), first
        pid = int(first.split()[1])
        start = time.perf_counter()
        lines: list[str] = []
        if delay is not None:
            if after_save_starts:
                while (line := self.readline()) != "saving":
                    lines.append(line)
                    assert not line.startswith(("exit", "error")), lines
                lines.append(line)
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        while not (line := self.readline()).startswith("exit "):
            lines.append(line)
        return Run(lines, int(line.split()[1]), time.perf_counter() - start)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    served = Server()
    yield served
    served.close()


def temps(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*{TEMP_SUFFIX}"))


def staging_path(target: Path) -> Path:
    """Where ``atomic._keep_backup`` stages the next ``.bak``."""
    return target.with_name(f".{target.name}.bak{TEMP_SUFFIX}")


def test_sigkill_leaves_old_or_new_workbook(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "month.xlsx"
    old = BASE.read_bytes()

    # the reference: an unkilled refresh, and how long one takes (median of three)
    durations = []
    for _ in range(3):
        target.write_bytes(old)
        run = server.run(target, None)
        assert run.phase == "finished" and run.status == 0, run.lines
        durations.append(run.seconds)
    new = target.read_bytes()
    reference_pay = pay_records(target)
    duration = statistics.median(durations)
    # the save is about 1–3% of a refresh since sheets are streamed: aim the series there
    save_window = 0.02 * duration

    rng = random.Random(SEED)
    plan = [(rng.uniform(0.0, 1.1 * duration), False) for _ in range(UNIFORM_KILLS)]
    plan += [(rng.uniform(0.0, save_window), True) for _ in range(SAVE_KILLS)]
    rng.shuffle(plan)

    phases: Counter[str] = Counter()
    on_disk: Counter[str] = Counter()
    leftovers_seen = 0
    stray_after_success = 0
    linked_before = 0  # runs that began with .bak a hard link of the workbook (a prior kill)
    for delay, aim_at_save in plan:
        target.write_bytes(old)
        before = set(temps(tmp_path, target.name))
        bak = backup_path(target)
        linked_before += bak.exists() and os.path.samefile(bak, target)
        run = server.run(target, delay, after_save_starts=aim_at_save)
        phases[run.phase] += 1
        data = target.read_bytes()
        if data == old:
            on_disk[f"{run.phase} → old"] += 1
        elif data == new:
            on_disk[f"{run.phase} → new"] += 1
        else:  # a complete new file that is not byte-identical would still do, if whole
            with zipfile.ZipFile(target) as zf:
                assert zf.testzip() is None
            read_book(target)
            assert pay_records(target) == reference_pay
            on_disk[f"{run.phase} → new (same 工资)"] += 1
        if run.phase == "before save":
            assert data == old, "the file changed before the save began"
        if run.phase in ("after save", "finished"):
            assert data != old or new == old
        assert not bak.exists() or bak.read_bytes() == old
        added = set(temps(tmp_path, target.name)) - before
        if added and run.phase != "mid-save":
            # a save that completed leaves no temp file, even when an earlier kill between its
            # two renames left .bak a hard link of the workbook (test_save_after_a_kill_…)
            stray_after_success += 1
        leftovers_seen += len(added)

    total = sum(phases.values())
    print(f"\nSIGKILL trials: {total} ({dict(phases)}); on disk: {dict(on_disk)}; "
          f"leftover temp files: {leftovers_seen} (after a completed save: "
          f"{stray_after_success}, .bak hard-linked before: {linked_before}); "
          f"refresh ≈ {duration * 1000:.0f} ms")
    assert stray_after_success == 0
    assert total >= 50
    assert phases["mid-save"] >= 5, phases  # the kills did land inside saves
    assert phases["before save"] >= 10, phases

    # cleanup policy: leftovers older than STALE_TEMP_SECONDS go at the next save
    left = temps(tmp_path, target.name)
    assert len(left) <= leftovers_seen  # a later save reuses (removes) the .bak staging name
    stale = time.time() - STALE_TEMP_SECONDS - 60
    for path in left:
        os.utime(path, (stale, stale))
    target.write_bytes(old)
    started = time.perf_counter()
    refresh_file(target, lock_timeout=5)  # a killed holder's lock does not block
    assert time.perf_counter() - started < 5
    assert temps(tmp_path, target.name) == []
    assert target.read_bytes() == new
    assert not lock_file(target).exists()


def test_fresh_leftover_temps_are_kept_but_never_read(tmp_path: Path) -> None:
    """A temp younger than the policy's hour may belong to a save in progress: kept, and the
    workbook never reads from it."""
    target = tmp_path / "month.xlsx"
    target.write_bytes(BASE.read_bytes())
    young = tmp_path / f".{target.name}.abc123{TEMP_SUFFIX}"
    young.write_bytes(b"PK\x03\x04 half a zip")
    refresh_file(target)
    assert young.exists()
    assert pay_records(target)


def test_save_after_a_kill_between_the_renames_leaves_no_staging_file(tmp_path: Path) -> None:
    """A save killed between os.replace(staging, bak) and os.replace(temp, path) leaves .bak a
    hard link of the workbook; renaming the next staged link onto it would be a no-op under
    POSIX (same inode), so atomic._keep_backup unlinks such a .bak first: no staging file
    survives, and .bak ends up the previous workbook, no longer aliasing the new one."""
    target = tmp_path / "month.xlsx"
    target.write_bytes(BASE.read_bytes())
    old = target.read_bytes()
    bak = backup_path(target)
    os.link(target, bak)  # the state such a kill leaves
    refresh_file(target)
    assert pay_records(target)
    assert temps(tmp_path, target.name) == []
    assert not os.path.samefile(bak, target)
    assert bak.read_bytes() == old
