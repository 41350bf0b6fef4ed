"""`grader grade` killed mid-batch: SIGKILL at random and at chosen points, then the same command again,
ends exactly as an uninterrupted run (timings aside); Ctrl-C stops at once, exit 130, and leaves no judge
or runner alive. Real judges on six small submissions (correct, buggy, a syntax error, a bad archive).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.student.pack import pack

pytestmark = pytest.mark.slow  # about 60 judge runs: a minute or more on two cores

KIT = Path(__file__).resolve().parent.parent
TIMING = {"started", "finished", "duration", "execution_time"}  # the only fields allowed to differ
JOB_MARKS = (b"grader.judge.plugin", b"_grader_worker")  # a judge's and a runner's command line
# A grader that SIGKILLs itself at the nth COMMIT (before or after it) or the nth os.replace into --out.
CRASHER = """
import os, signal, sys
import grader.host.gradebook as gb
from grader.cli import main
point, nth, out = sys.argv[1], int(sys.argv[2]), os.path.realpath(sys.argv[3])
seen = [0]
def hit(name):
    if name == point:
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
class DB:
    def __init__(self, db):
        self._db = db
    def execute(self, sql, *args):
        hit("before-commit") if sql == "COMMIT" else None
        result = self._db.execute(sql, *args)
        hit("after-commit") if sql == "COMMIT" else None
        return result
    def __getattr__(self, name):
        return getattr(self._db, name)
opened = gb.Gradebook.__init__
def init(self, *args):
    opened(self, *args)
    self.db = DB(self.db)
gb.Gradebook.__init__ = init
replace = os.replace
def checked_replace(src, dst, *args, **kwargs):
    if os.path.realpath(dst).startswith(out + os.sep):
        hit("replace")
    return replace(src, dst, *args, **kwargs)
os.replace = checked_replace
sys.exit(main(sys.argv[4:]))
"""


def edited(folder: Path, name: str, old: str, new: str) -> None:
    source = (folder / name).read_text()
    assert old in source, (name, old)
    (folder / name).write_text(source.replace(old, new, 1))


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Six submissions, a TMPDIR of their own (so their judges and runners can be found), and the grade argv."""
    root = tmp_path_factory.mktemp("crash")
    subs = root / "in"
    reference_submission(subs / "alice")
    pack(reference_submission(root / "bob-src"), subs / "bob.zip")
    edited(reference_submission(subs / "carol"), "relu.py", "dtype=x.dtype)), positive",
           "dtype=x.dtype)), x >= 0")  # the gradient is 1 at 0
    edited(reference_submission(subs / "dan"), "softmax_ce.py", "return dlogits * (dloss / n)",
           "return dlogits * dloss")  # forgets the mean
    edited(reference_submission(subs / "erin"), "conv.py", "from __future__ import annotations\n",
           "from __future__ import annotations\ndef broken(:\n")  # a syntax error
    with zipfile.ZipFile(subs / "mallory.zip", "w") as archive:
        archive.writestr("../relu.py", "x = 1\n")
    tmp = root / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(KIT)}
    env.pop("GRADER_NO_SANDBOX", None)
    paths = sorted(str(p) for p in subs.iterdir())
    return {"root": root, "env": env, "tmp": tmp, "paths": paths}


def grade_argv(batch: dict, out: Path, *more: str) -> list[str]:
    """The batch (and ``more`` submissions) on the public suite: quicker, and crash safety is the same."""
    return ["grade", *batch["paths"], *more, "--out", str(out), "--jobs", "2", "--suite", "public"]


def run_grader(batch: dict, argv: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "grader", *argv], cwd=KIT, env=batch["env"], capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def jobs_alive(batch: dict) -> list[tuple[int, bytes]]:
    """(pid, command line) of every judge or runner started for this batch that is still alive."""
    found = []
    mark = str(batch["tmp"]).encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if mark in cmdline and any(job in cmdline for job in JOB_MARKS):
            found.append((int(entry.name), cmdline.replace(b"\0", b" ")[:200]))
    return found


def end_orphans(batch: dict) -> int:
    """Kill (by pid) the judges a SIGKILLed grader left running; returns how many there were."""
    orphans = jobs_alive(batch)
    for pid, _ in orphans:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while jobs_alive(batch) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(orphans)


def snapshot(out: Path) -> dict:
    """Everything in a gradebook folder, timings left out: rows, CSV, results JSON, feedback, file names."""
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    db = sqlite3.connect(f"file:{out / 'gradebook.sqlite'}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        submissions = [{k: v for k, v in dict(row).items() if k not in TIMING}
                       for row in db.execute("SELECT * FROM submissions ORDER BY student")]
        tests = [{k: v for k, v in dict(row).items() if k not in TIMING}
                 for row in db.execute("SELECT * FROM tests ORDER BY student, rowid")]
    finally:
        db.close()
    files = {}
    for name in names:
        path = out / name
        if name.startswith("results/"):
            files[name] = _untimed(json.loads(path.read_text()))
        elif name == "report.html":  # a view of the database with timings and the time it was written
            files[name] = b"<html" in path.read_bytes()[:200]
        elif name != "gradebook.sqlite":
            files[name] = path.read_bytes()
    return {"names": names, "submissions": submissions, "tests": tests, "files": files}


def _untimed(value: object) -> object:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def state(out: Path) -> str:
    """What a kill left behind, in a few words (for the log)."""
    count = {folder: len([p for p in (out / folder).glob("*") if not p.name.startswith(".")])
             if (out / folder).is_dir() else 0 for folder in ("results", "feedback")}
    stale = [p.name for p in out.rglob(".*.tmp")]
    journal = (out / "gradebook.sqlite-journal").exists()
    return f"{count['results']} json, {count['feedback']} md, journal={journal}, stale temp files={len(stale)}"


@pytest.fixture(scope="module")
def reference(batch):
    """An uninterrupted run: its snapshot and how long it took."""
    out = batch["root"] / "reference"
    start = time.monotonic()
    run_grader(batch, grade_argv(batch, out))
    elapsed = time.monotonic() - start
    snap = snapshot(out)
    assert end_orphans(batch) == 0  # a run that finishes leaves nothing behind
    return snap, elapsed


def test_the_reference_run_grades_every_kind_of_submission(reference):
    snap, _ = reference
    by_student = {row["student"]: row for row in snap["submissions"]}
    full = by_student["alice"]["max_score"]
    assert [(by_student[s]["status"], by_student[s]["score"]) for s in ("alice", "bob")] == [("graded", full)] * 2
    assert 0 < by_student["carol"]["score"] < full and 0 < by_student["dan"]["score"] < full
    assert by_student["mallory"]["status"] == "bad_archive" and "climbs out" in by_student["mallory"]["message"]
    erin = [t for t in snap["tests"] if t["student"] == "erin"]
    assert all(t["status"] == "passed" for t in erin if t["exercise"] in ("relu", "softmax_ce"))
    conv = [t for t in erin if t["exercise"] == "conv"]  # "your code raised SyntaxError: ... (conv.py, line 35)"
    assert conv and all(t["status"] != "passed" and "SyntaxError" in t["output"] for t in conv)
    assert all(row["sandbox"] in ("bwrap", "rlimits-only") for row in snap["submissions"]
               if row["student"] != "mallory")


def test_sigkill_at_random_moments_then_resume_matches_the_uninterrupted_run(batch, reference):
    expected, elapsed = reference
    rng = random.Random(20250101)
    log, hits = [], 0
    for trial in range(5):
        out = batch["root"] / f"random-{trial}"
        for kill in range(rng.choice((1, 1, 2))):  # sometimes the resumed run is killed too
            delay = rng.uniform(0.1, (0.7 if kill == 0 else 0.3) * elapsed)
            grader = subprocess.Popen([sys.executable, "-m", "grader", *grade_argv(batch, out)], cwd=KIT,
                                      env=batch["env"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            finished = grader.poll() is not None
            hits += not finished
            grader.send_signal(signal.SIGKILL)
            grader.wait()
            orphans = end_orphans(batch)
            log.append(f"trial {trial} kill {kill}: after {delay:.2f} s"
                       + (" (already done)" if finished else f": {state(out)}, {orphans} orphaned processes"))
        run_grader(batch, grade_argv(batch, out))
        assert snapshot(out) == expected, log[-1]
    print("\n".join(log))
    assert hits >= 3, log  # most kills landed while the grader was at work


@pytest.mark.parametrize(("point", "seed"), [("before-commit", 1), ("after-commit", 2), ("replace", 3)])
def test_sigkill_at_a_critical_point_then_resume_matches(batch, reference, point, seed):
    """Inside a transaction (rolled back), between the commit and the files, and before a file's rename."""
    expected, _ = reference
    out = batch["root"] / f"point-{point}"
    nth = random.Random(seed).randint(1, 5) if point != "replace" else random.Random(seed).randint(1, 15)
    crashed = subprocess.run([sys.executable, "-c", CRASHER, point, str(nth), str(out), *grade_argv(batch, out)],
                             cwd=KIT, env=batch["env"], capture_output=True, text=True, timeout=240)
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    left = state(out)
    if point == "before-commit":
        assert "journal=True" in left, left  # a hot journal: SQLite rolls it back on the next open
    if point == "replace":
        assert "stale temp files=1" in left, left
    end_orphans(batch)
    run_grader(batch, grade_argv(batch, out))
    assert snapshot(out) == expected
    assert not list(out.rglob(".*.tmp"))
    print(f"{point} #{nth}: {left}")


def hanging_submission(batch: dict) -> Path:
    """A submission whose relu_forward never returns, named to be graded first."""
    aaron = Path(batch["root"] / "aaron")
    if not aaron.exists():
        edited(reference_submission(aaron), "relu.py", '    """x: any shape.', "    while True:\n        pass\n"
               '    """x: any shape.')
    return aaron


def start_and_wait_for_a_runner(batch: dict, argv: list[str]) -> subprocess.Popen:
    """``grader argv`` in a session of its own, once one of its runners is alive."""
    grader = subprocess.Popen([sys.executable, "-m", "grader", *argv, "--test-timeout", "120"], cwd=KIT,
                              env=batch["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    deadline = time.monotonic() + 120
    while not any(b"_grader_worker" in cmd for _, cmd in jobs_alive(batch)):
        assert grader.poll() is None and time.monotonic() < deadline, "no runner ever started"
        time.sleep(0.05)
    return grader


def test_ctrl_c_stops_at_once_with_130_and_leaves_no_judge_or_runner(batch, reference):
    expected, _ = reference
    out = batch["root"] / "ctrl-c"
    grader = start_and_wait_for_a_runner(batch, grade_argv(batch, out, str(hanging_submission(batch))))
    time.sleep(random.Random(7).uniform(0.5, 1.5))
    busy = jobs_alive(batch)
    assert any(b"grader.judge.plugin" in cmd for _, cmd in busy)
    os.killpg(grader.pid, signal.SIGINT)
    start = time.monotonic()
    out_text, err_text = grader.communicate(timeout=30)
    stopped = time.monotonic() - start
    assert grader.returncode == 130, err_text
    assert stopped < 10, stopped
    lines = [line for line in err_text.splitlines() if not line.startswith("sandbox: ")]  # said without bwrap
    assert len(lines) == 1 and lines[0].startswith("grader grade: interrupted;"), err_text
    assert "Traceback" not in out_text + err_text
    time.sleep(0.5)
    assert jobs_alive(batch) == [], "judges or runners outlived Ctrl-C"
    print(f"Ctrl-C: {len(busy)} judge/runner processes busy; exit 130 after {stopped:.2f} s: {lines[0]}")
    run_grader(batch, grade_argv(batch, out))  # the same batch without aaron resumes to the reference
    assert snapshot(out) == expected


def test_sigterm_stops_the_same_way_with_143(batch):
    out = batch["root"] / "sigterm"
    grader = start_and_wait_for_a_runner(batch, ["grade", str(hanging_submission(batch)), "--out", str(out)])
    grader.terminate()
    out_text, err_text = grader.communicate(timeout=30)
    assert out_text == ""
    assert grader.returncode == 143, err_text
    lines = [line for line in err_text.splitlines() if not line.startswith("sandbox: ")]
    assert lines == ["grader grade: terminated; 0 of 1 submissions recorded; the same command grades the rest"]
    time.sleep(0.5)
    assert jobs_alive(batch) == []
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone() == (0,)
