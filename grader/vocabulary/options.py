"""How a suite run judges a submission, and each runner's limits: every default is declared here, once.

The CLI builds a :class:`JudgeOptions` from its flags (their defaults come from these fields), Gradescope's
``run`` from ``autograder.json``; :func:`grader.host.launch.run_suite` hands it to the judge as one JSON value
(``--grader-options``), and the judge gives each runner and kernel process ``limits.rlimits()``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: how runners are confined, strongest first (grader.jail.sandbox decides), and what a user may ask for
SANDBOX_TIERS = ("bwrap", "uid+seccomp", "uid", "rlimits-only")
SANDBOX_CHOICES = ("auto", "bwrap", "uid", "rlimits-only")
#: ``grader export gradescope --residual-kernels``: the block graded on the reference conv/ReLU, or the student's
RESIDUAL_KERNELS = ("reference", "student")
GRADESCOPE_TOTAL_TIMEOUT = 480.0  # Gradescope stops an autograder after 10 minutes by default: leave room to start


def _require(name: str, value: Any, kind: type | tuple[type, ...], positive: bool = True) -> None:
    if not isinstance(value, kind) or isinstance(value, bool) or (positive and value <= 0):
        what = ("a positive " if positive else "an ") + ("integer" if kind is int else "number")
        raise ValueError(f"{name} must be {what}, got {value!r}")


@dataclass(frozen=True)
class Limits:
    """Each runner's resource limits, set before any submission code runs (the reference kernels' process gets
    the first two). Far above what the exercises need, so that a runaway submission fails its own tests, not
    the machine: ``memory_mb`` address space (RLIMIT_AS: a ``MemoryError``, not the OOM killer);
    ``cpu_seconds`` over all the tests of an exercise (RLIMIT_CPU: a loop the per-test deadline cannot stop);
    ``file_size_mb`` the largest file written, the output log included (RLIMIT_FSIZE: the disk stays free);
    ``open_files`` (RLIMIT_NOFILE); ``processes`` and threads (RLIMIT_NPROC: a fork bomb; docs/grader.md).
    """

    memory_mb: int = field(default=4096, metadata={"metavar": "MB", "help": "address space"})
    cpu_seconds: int = field(default=300, metadata={"metavar": "S", "help": "CPU time per exercise"})
    file_size_mb: int = field(default=16, metadata={"metavar": "MB", "help": "largest file written"})
    open_files: int = field(default=256, metadata={"metavar": "N"})
    processes: int = field(default=64, metadata={"metavar": "N"})

    def __post_init__(self) -> None:
        for f in fields(self):
            _require(f.name, getattr(self, f.name), int)

    def rlimits(self) -> dict[str, int]:
        """The runner's rlimits as ``grader.runner.worker`` sets them (sizes in bytes)."""
        return {"address_space": self.memory_mb << 20, "cpu_seconds": self.cpu_seconds,
                "file_size": self.file_size_mb << 20, "open_files": self.open_files, "processes": self.processes}


@dataclass(frozen=True)
class JudgeOptions:
    """What ``grader grade``, ``check``, ``export gradescope`` and Gradescope's ``run`` tell a suite run."""

    test_timeout: float = 30.0  # seconds a test waits for the runner's answer
    total_timeout: float = 900.0  # seconds for the whole run; then the judge is killed with its runners
    base_seed: int = 0  # of the tests' random inputs (each test's seed: this and its id)
    sandbox: str = "auto"  # one of SANDBOX_TIERS or SANDBOX_CHOICES
    limits: Limits = Limits()

    def __post_init__(self) -> None:
        _require("test_timeout", self.test_timeout, (int, float))
        _require("total_timeout", self.total_timeout, (int, float))
        _require("base_seed", self.base_seed, int, positive=False)
        if not (isinstance(self.sandbox, str) and isinstance(self.limits, Limits)):
            raise ValueError(f"sandbox must be a string and limits Limits, got {self.sandbox!r}, {self.limits!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JudgeOptions:
        """What :meth:`to_json` wrote (a missing field takes its default); ValueError naming a bad field."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ValueError(f"the grader options are not JSON ({err})") from None
        if not (isinstance(data, dict) and isinstance(data.setdefault("limits", {}), dict)):
            raise ValueError("the grader options are not a JSON object with limits an object")
        for kind, given in ((cls, data), (Limits, data["limits"])):
            unknown = sorted(set(given) - {f.name for f in fields(kind)})
            if unknown:
                raise ValueError(f"unknown grader option {unknown[0]!r}")
        return cls(**{**data, "limits": Limits(**data["limits"])})
