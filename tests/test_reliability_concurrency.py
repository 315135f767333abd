"""Concurrency: two ``kpi-xl refresh`` of one workbook at once, and a refresh during an import.

Each run is a real ``kpi-xl`` process. The processes meet at a barrier after their imports so
that they reach the workbook lock together; a thin wrapper around ``workbook_lock`` (test
instrumentation in the child only) prints when each asked for the lock, got it and let it go.
One must wait for the other (flock) or be refused with a clear message; the lock intervals
never overlap; the file is never corrupt and equals what running them one after the other
gives; no temp or lock file is left behind.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

from kpi_xl.importer import import_export
from kpi_xl.workbook.atomic import TEMP_SUFFIX, WorkbookBusy, lock_file
from kpi_xl.workbook.refresh import refresh_file
from kpi_xl.workbook.xlsx import read_book
from tests.test_reliability_corpus import BASE, CORPUS, inputs_of, pay_records

REPO = Path(__file__).resolve().parents[1]
REPETITIONS = 3
BUSY = "另一个 kpi-xl 进程正在更新此工作簿"

CHILD = textwrap.dedent(
    """
    import contextlib, os, sys, time
    sys.path.insert(0, {repo!r})
    from kpi_xl.cli import main
    from kpi_xl.importer import apply
    from kpi_xl.workbook import refresh

    def traced(original):
        @contextlib.contextmanager
        def lock(path, *args, **kwargs):
            asked = time.time()
            with original(path, *args, **kwargs) as held:
                print(f"lock {{asked!r}} {{time.time()!r}}", flush=True)
                try:
                    yield held
                finally:
                    print(f"unlock {{time.time()!r}}", flush=True)
        return lock

    refresh.workbook_lock = traced(refresh.workbook_lock)
    apply.workbook_lock = traced(apply.workbook_lock)
    barrier, count, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    open(os.path.join(barrier, str(os.getpid())), "w").close()
    deadline = time.time() + 30
    while len(os.listdir(barrier)) < count and time.time() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    sys.exit(main(sys.argv[4:]))
    """
)


@dataclass
class Done:
    """One finished process: exit code, output, and its lock interval (if it got the lock)."""

    code: int
    out: str
    err: str
    asked: float | None
    locked: float | None
    unlocked: float | None


def run_together(commands: list[list[str]], barrier: Path,
                 delays: tuple[float, ...] = ()) -> list[Done]:
    """Start every ``kpi-xl`` command at once (through the barrier; ``delays`` hold some
    back a little after it) and wait for all."""
    shutil.rmtree(barrier, ignore_errors=True)
    barrier.mkdir()
    script = CHILD.format(repo=str(REPO))
    delays = delays or (0.0,) * len(commands)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(barrier), str(len(commands)),
                               str(delay), *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for argv, delay in zip(commands, delays, strict=True)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        asked = locked = unlocked = None
        for line in out.splitlines():
            if line.startswith("lock "):
                asked, locked = (float(x) for x in line.split()[1:3])
            elif line.startswith("unlock "):
                unlocked = float(line.split()[1])
        done.append(Done(proc.returncode, out, err, asked, locked, unlocked))
    return done


def assert_serialised(runs: list[Done]) -> bool:
    """No two lock intervals overlap; every run succeeded or was refused clearly. Returns
    whether one run really waited for the other."""
    for run in runs:
        assert "Traceback" not in run.err, run.err
        assert run.code == 0 or (run.code == 1 and BUSY in run.err), (run.code, run.err)
    held = sorted((r.locked, r.unlocked, r.asked) for r in runs if r.locked is not None)
    assert held, "nobody got the lock"
    for (_, first_end, _), (second_start, _, _) in itertools.pairwise(held):
        assert first_end is not None and second_start is not None
        assert first_end <= second_start, "two processes held the workbook lock at once"
    return any(asked is not None and asked < held[0][1]  # type: ignore[operator]
               for _, _, asked in held[1:])


def assert_clean_folder(path: Path) -> None:
    assert not list(path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"))
    assert not lock_file(path).exists()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    read_book(path)


def test_two_refreshes_at_once(tmp_path: Path) -> None:
    reference = tmp_path / "reference.xlsx"
    shutil.copy(BASE, reference)
    refresh_file(reference)
    expected = reference.read_bytes()  # the refresh is deterministic and idempotent
    waited = 0
    target = tmp_path / "month.xlsx"
    for _ in range(REPETITIONS):
        shutil.copy(BASE, target)
        runs = run_together([["refresh", str(target)], ["refresh", str(target)]],
                            tmp_path / "barrier")
        waited += assert_serialised(runs)
        assert target.read_bytes() == expected
        assert_clean_folder(target)
    print(f"\ntwo refreshes at once: {REPETITIONS} repetitions, one waited for the other in "
          f"{waited}")
    assert waited >= 1, "the processes never contended for the lock"


def test_refresh_while_an_import_runs(tmp_path: Path) -> None:
    export = CORPUS / "e01_summary_rows.csv"
    before_import = tmp_path / "pre.xlsx"      # refresh, then import
    shutil.copy(BASE, before_import)
    refresh_file(before_import)
    import_export(before_import, export)
    after_import = tmp_path / "post.xlsx"      # import, then refresh
    shutil.copy(BASE, after_import)
    import_export(after_import, export)
    refresh_file(after_import)
    orders = {"refresh first": 0, "import first": 0}
    target = tmp_path / "month.xlsx"
    for delays in ((0.0, 0.0), (0.0, 0.4)):  # together; the refresh a little later
        shutil.copy(BASE, target)
        runs = run_together([["import", str(target), str(export)], ["refresh", str(target)]],
                            tmp_path / "barrier", delays)
        assert_serialised(runs)
        imported, refreshed = runs
        assert imported.code == 0 and refreshed.code == 0, (imported.err, refreshed.err)
        assert imported.locked is not None and refreshed.locked is not None
        first = "import first" if imported.locked < refreshed.locked else "refresh first"
        orders[first] += 1
        same = after_import if first == "import first" else before_import
        # the imported cells are there either way; 工资 is what that order computes
        assert inputs_of(target) == inputs_of(same)
        assert pay_records(target) == pay_records(same)
        assert_clean_folder(target)
    print(f"\nrefresh during an import: {orders}")


def test_refused_with_a_clear_message_when_the_wait_is_too_long(tmp_path: Path) -> None:
    """A holder that keeps the lock past the timeout: the refresh is refused (WorkbookBusy,
    a message HR can act on), and the file is untouched."""
    target = tmp_path / "month.xlsx"
    shutil.copy(BASE, target)
    before = target.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(REPO)!r})
            from kpi_xl.workbook.xlsx import workbook_lock
            with workbook_lock({str(target)!r}):
                print("held", flush=True)
                time.sleep(30)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        try:
            refresh_file(target, lock_timeout=0.5)
        except WorkbookBusy as error:
            assert BUSY in str(error)
        else:
            raise AssertionError("the refresh did not wait for the lock holder")
        assert target.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    refresh_file(target, lock_timeout=5)  # the dead holder's lock is gone with it
    assert pay_records(target)
