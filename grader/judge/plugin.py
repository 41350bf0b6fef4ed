"""The pytest plugin the judge runs suites with: fixtures, markers, and the results file.

Loaded with ``-p grader.judge.plugin``. A suite module declares its exercise
(``pytestmark = pytest.mark.exercise("conv")``) and its tests use the fixtures:

- ``student``: the submission's module in a runner, ``out, cache = student.conv2d_forward(x, w)``;
  ``student.conv2d_forward.with_inputs(x, w)`` also returns the runner's view of the array arguments
  after the call; ``student.harness("residual_block", ...)`` drives a module.
- ``rng`` / ``seed``: a NumPy generator seeded from the base seed (``--grader-options``) and the test's id (recorded).
- ``credit``: ``credit.fraction(0.5)`` keeps half the points even if a later check fails.

Markers: ``points(p)`` (default 1), ``visibility(level)`` (Gradescope's visible, hidden,
after_due_date, after_published; default hidden for files under ``hidden/``, else visible).

A result's status: ``passed``; ``failed`` (a wrong value); ``error`` (the submission raised); ``timeout``
(no answer before the test's deadline, or the runner's CPU time used up); ``out_of_memory`` (a
``MemoryError`` in the runner, or the runner killed by SIGKILL); ``crash`` (any other death: ``os._exit``,
SIGSEGV ...); ``tampered`` (a comparison met an object pretending to be an array or a number — an ndarray
subclass, an object array of such objects, hooks like ``__array__``/``__eq__`` — or the runner noted that
the submission read the call stack, patched NumPy, the builtins or the runner, looked for the judge's
files or results, or used the network). A tampered test scores 0, partial credit included.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.jail import identity, sandbox
from grader.jail.kernel_service import KernelService
from grader.jail.processes import SIGKILL, prctl
from grader.jail.proxy import RunnerCrashed, RunnerOutOfMemory, RunnerProxy, RunnerTimeout, StudentError
from grader.jail.staging import JUDGE_KERNELS, build_stage, runtime_mounts, runtime_path
from grader.judge import compare
from grader.vocabulary.exercises import REFERENCE_KERNELS_FOR
from grader.vocabulary.files import atomic_write_text
from grader.vocabulary.options import JudgeOptions
from grader.vocabulary.results import NOT_IMPLEMENTED, TestResult, TestStatus, Visibility


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption("--submission", help="directory holding the submission's exercise files")
    group.addoption("--results", help="where to write results.json")
    group.addoption("--scratch", help="scratch directory for runners (default: a temporary one)")
    group.addoption("--grader-options", default="{}",
                    help="grader.vocabulary.options.JudgeOptions as JSON: timeouts, base seed, runner limits")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(name): the exercise a suite module grades")
    config.addinivalue_line("markers", "points(p): points of a test (default 1)")
    config.addinivalue_line("markers", "visibility(level): visible, hidden, after_due_date or after_published")
    if config.getoption("--submission"):
        _die_with_parent()
        config.pluginmanager.register(GraderSession(config), "grader-session")


def _die_with_parent() -> None:
    """A judge whose grader was killed (SIGKILL leaves no chance to clean up) stops at once, runners and all."""
    parent = os.getppid()
    if not prctl(1, int(SIGKILL)):  # PR_SET_PDEATHSIG; Linux only
        return
    if os.getppid() != parent:  # the grader died before the request took effect
        os._exit(1)


class Credit:
    """Partial credit a test has earned so far (a fraction of its points)."""

    def __init__(self) -> None:
        self.value: float | None = None

    def fraction(self, value: float) -> None:
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"credit.fraction takes a value in [0, 1], got {value}")
        self.value = float(value)


class StudentFunction:
    def __init__(self, student: Student, name: str) -> None:
        self.student, self.name = student, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.student.proxy.call(self.student.module, self.name, args, kwargs, self.student.remaining())

    def with_inputs(self, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """(result, the positional arguments as the runner holds them after the call)."""
        reply = self.student.proxy.call(self.student.module, self.name, args, kwargs, self.student.remaining(),
                                        return_args=True)
        if not isinstance(reply, dict) or "result" not in reply or "args" not in reply:
            raise RunnerCrashed("the runner sent a malformed reply")
        return reply["result"], reply["args"]


class Student:
    """The submission's exercise module, as seen from the judge."""

    def __init__(self, proxy: RunnerProxy, module: str, deadline: float) -> None:
        self.proxy, self.module, self.deadline = proxy, module, deadline

    def remaining(self) -> float:
        return max(0.05, self.deadline - time.monotonic())

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return StudentFunction(self, name)

    def harness(self, function: str, **kwargs: Any) -> Any:
        return self.proxy.harness(function, kwargs, self.remaining(), module=self.module)


class GraderSession:
    """One judge run: the runners it started and the results it collected."""

    def __init__(self, config: pytest.Config) -> None:
        self.submission = Path(config.getoption("--submission")).resolve()
        scratch = config.getoption("--scratch")
        self._tmp = None if scratch else tempfile.TemporaryDirectory(prefix="grader-judge-")
        self.root = Path(scratch or self._tmp.name).resolve()
        self.results_path = config.getoption("--results")
        try:
            options = JudgeOptions.from_json(config.getoption("--grader-options"))
        except ValueError as err:
            raise pytest.UsageError(str(err)) from None
        self.base_seed, self.test_timeout = options.base_seed, options.test_timeout
        self.limits = options.limits.rlimits()  # the runners' and the reference kernels' process's
        self.tier = sandbox.for_judge()
        self.proxies: dict[str, RunnerProxy] = {}
        self.results: dict[str, dict[str, Any]] = {}  # nodeid -> TestResult.to_dict(), serialized once
        if self.tier in ("uid+seccomp", "uid"):
            _open_to_runners(self.root)

    # ----- runners -----
    def proxy(self, exercise: str) -> RunnerProxy:
        if exercise not in self.proxies:
            stage = build_stage(self.root, self.submission, exercise)
            reference = exercise in REFERENCE_KERNELS_FOR  # graded on kernels the judge computes
            env = {"MINIGRAD_KERNELS": JUDGE_KERNELS if reference else "exercises",
                   "GRADER_RUNTIME_PATH": runtime_path(self.root)}
            kernels = KernelService(REFERENCE_KERNELS_FOR[exercise], self.limits) if reference else None
            proxy = RunnerProxy(stage, self.root / f"scratch-{exercise}", self.limits, env,
                                read_only=runtime_mounts(self.root), reap=True, tier=self.tier, kernels=kernels)
            proxy.start()
            self.proxies[exercise] = proxy
        return self.proxies[exercise]

    # ----- fixtures -----
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        exercise = _exercise_of(request.node)
        return Student(self.proxy(exercise), exercise, time.monotonic() + self.test_timeout)

    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        value = (self.base_seed + zlib.crc32(request.node.nodeid.encode())) & 0x7FFFFFFF
        request.node.user_properties.append(("seed", value))
        return value

    @pytest.fixture
    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    @pytest.fixture
    def credit(self, request: pytest.FixtureRequest) -> Credit:
        request.node._grader_credit = Credit()
        return request.node._grader_credit

    # ----- results -----
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.results[item.nodeid] = _result(item, TestStatus.TIMEOUT, 0.0, "the test did not finish").to_dict()
        self._write()
        # start every runner now: they boot side by side (bwrap, Python, NumPy: ~0.15 s each) instead of
        # one by one at each exercise's first test
        for exercise in dict.fromkeys(_exercise_of(item) for item in items if "student" in item.fixturenames):
            self.proxy(exercise)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        compare.reset_tampering()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            status, output, not_implemented = _classify(report, call)
            if status in (TestStatus.FAILED, TestStatus.ERROR, TestStatus.CRASH):
                proxy = self.proxies.get(_exercise_of(item))
                status, output = _tampering(status, output, compare.tampering_seen(),
                                            proxy.notes if proxy is not None else [])
                not_implemented = not_implemented and status is not TestStatus.TAMPERED
            credit = getattr(item, "_grader_credit", None)
            fraction = 1.0 if status is TestStatus.PASSED else (credit.value or 0.0) \
                if credit and status is not TestStatus.TAMPERED else 0.0
            self.results[item.nodeid] = _result(item, status, fraction, output, not_implemented,
                                                round(report.duration, 4)).to_dict()
            self._write()

    def pytest_sessionfinish(self) -> None:
        for proxy in self.proxies.values():
            proxy.close()
        self._write()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _write(self) -> None:
        if not self.results_path:
            return
        uids = sorted({uid for proxy in self.proxies.values() for uid in proxy.uids})
        notes = {name: proxy.notes for name, proxy in self.proxies.items() if proxy.notes}
        payload = {"results": list(self.results.values()),  # rewritten after every test: no re-serializing
                   "runners": {"sandbox": self.tier, "uids": uids, "notes": notes}}
        atomic_write_text(Path(self.results_path), json.dumps(payload), durable=False)


def _open_to_runners(root: Path) -> None:
    """Runners under uids of their own must reach their folders under ``root``; nothing else of the judge's.

    Everything the judge writes from here on is its own only (umask 077); ``root`` becomes traversable
    (0711: reachable by name, not listable). A closed folder above it is the caller's to open (``run_suite``
    opens the run's own): say which.
    """
    os.umask(0o077)
    root.mkdir(parents=True, exist_ok=True)
    identity.open_to_runners(root)
    closed = identity.closed_ancestor(str(root / "x"))
    if closed is not None:
        raise pytest.UsageError(f"runners under their own uids cannot reach {root}: {closed} is closed to other "
                                "users; grade with a work folder they can traverse (the system's temp folder)")


def _tampering(status: TestStatus, output: str, detected: list[str], notes: list[str]) -> tuple[TestStatus, str]:
    """A failed, errored or crashed test becomes tampered when a comparison or the runner saw tampering."""
    if detected:
        return TestStatus.TAMPERED, _first_lines("tampered: " + "; ".join(detected))
    if notes:
        shown = "; ".join(notes[:3]) + (f"; and {len(notes) - 3} more" if len(notes) > 3 else "")
        return TestStatus.TAMPERED, _first_lines(f"tampered: the submission {shown} ({status}: {output})")
    return status, output


def _exercise_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("exercise")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: the suite module needs pytestmark = pytest.mark.exercise(name)")
    return str(marker.args[0])


def _result(item: pytest.Item, status: TestStatus, fraction: float, output: str, not_implemented: bool = False,
            duration: float = 0.0) -> TestResult:
    points_marker = item.get_closest_marker("points")
    max_points = float(points_marker.args[0]) if points_marker else 1.0
    vis_marker = item.get_closest_marker("visibility")
    hidden = "hidden" in Path(str(item.path)).parts  # the suite's hidden/ folder
    try:
        visibility = Visibility(vis_marker.args[0]) if vis_marker else Visibility.HIDDEN if hidden \
            else Visibility.VISIBLE
    except ValueError:
        raise pytest.UsageError(f"{item.nodeid}: visibility must be one of {', '.join(Visibility)}") from None
    seed = dict(item.user_properties).get("seed", 0)
    doc = (getattr(item, "function", None).__doc__ or "").strip().split("\n")[0] if hasattr(item, "function") else ""
    name = doc or item.name
    callspec = getattr(item, "callspec", None)
    if doc and callspec is not None:
        name = f"{doc} [{callspec.id}]"  # one docstring, many cases: keep the names apart
    return TestResult(nodeid=item.nodeid, name=name, exercise=_exercise_of(item),
                      points=round(max_points * fraction, 6), max_points=max_points, status=status, output=output,
                      visibility=visibility, seed=seed, duration=duration, not_implemented=not_implemented)


def _classify(report: pytest.TestReport, call: pytest.CallInfo[Any]) -> tuple[TestStatus, str, bool]:
    """(status, one-line output, not implemented) for a finished test."""
    if report.passed:
        return TestStatus.PASSED, "", False
    if report.skipped:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else ""
        return TestStatus.FAILED, f"skipped: {reason}", False
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, RunnerTimeout):
        return TestStatus.TIMEOUT, f"timed out: {error}", False
    if isinstance(error, RunnerOutOfMemory):
        return TestStatus.OUT_OF_MEMORY, f"out of memory: {error}", False
    if isinstance(error, RunnerCrashed):
        return TestStatus.CRASH, f"crashed: {error}", False
    if isinstance(error, StudentError):
        if error.out_of_memory:
            return TestStatus.OUT_OF_MEMORY, f"out of memory: your code raised {error}", False
        if error.not_implemented:
            return TestStatus.ERROR, NOT_IMPLEMENTED + (f": {error.message}" if error.message else ""), True
        return TestStatus.ERROR, f"your code raised {error}", False
    if isinstance(error, compare.TamperingDetected):
        return TestStatus.TAMPERED, _first_lines(f"tampered: {error}"), False
    if isinstance(error, AssertionError):
        return TestStatus.FAILED, _first_lines(str(error)), False
    return TestStatus.ERROR, f"the test could not run: {type(error).__name__}: {_first_lines(str(error))}", False


def _first_lines(text: str, limit: int = 600) -> str:
    text = text.strip().split("\nassert ")[0]
    return text[:limit]
