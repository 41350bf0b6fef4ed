"""The grader against hostile submissions: each attack is graded next to a correct submission.

For every attack (tests/hostile/<name>/, or a forgery of tests/grader_corpus/ reused from there) the
test grades the attacked exercise with short limits while a reference submission is graded at the same
time with the default ones, and checks:

- the tests it attacks get no credit and the status that says what happened (timeout, out_of_memory,
  crash, error, tampered, failed);
- the other submission still scores full marks;
- the host is untouched: canary files in the host's /tmp and in the kit unchanged, nothing new in the
  kit's solutions/ or in the test's canary directory, the other submission's files unchanged, and no
  process left whose command line mentions the test's directories or that runs as one of the runners' uids;
- the batch completed (the judge wrote its results).

Attacks that only bubblewrap can stop (reading or writing the host's files, the network, a fork bomb as
root) run only where bwrap works; the others also run with ``GRADER_NO_SANDBOX=1`` (rlimits only).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kit_copies import reference_submission

from grader.exercises import WEIGHTS
from grader.judge import sandbox
from grader.judge.run import SuiteRun, run_suite

pytestmark = pytest.mark.slow

KIT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
CORPUS = Path(__file__).resolve().parent / "grader_corpus"
HAS_BWRAP = sandbox.bwrap() is not None
IS_ROOT = os.geteuid() == 0
LIMITS = {"test_timeout": 3.0, "total_timeout": 150.0, "memory_mb": 512, "cpu_seconds": 30}


@dataclass(frozen=True)
class Attack:
    """An attack: where its files are, what it is graded with, and what must come of it."""

    source: Path
    exercise: str
    statuses: tuple[str, ...]  # every attacked test ends with one of these
    signature: str  # and at least one with this one
    attacked: str = ""  # regex on node ids: the tests it attacks (default: all of the exercise's)
    suite: str = "hidden"
    mention: str = ""  # a word the attacked tests' output must contain
    sandbox_only: str = ""  # why only bubblewrap stops it (then it is not run without)
    extra: tuple[str, ...] = field(default=())  # extra checks, by name (see CHECKS)


def _h(name: str) -> Path:
    return HOSTILE / name


ATTACKS = {
    "loop_at_import": Attack(_h("loop_at_import"), "relu", ("timeout",), "timeout", mention="timed out"),
    "loop_in_call": Attack(_h("loop_in_call"), "relu", ("timeout",), "timeout", attacked="backward",
                           suite="public"),
    "memory_bomb": Attack(_h("memory_bomb"), "relu", ("out_of_memory",), "out_of_memory", mention="MemoryError"),
    "fork_bomb": Attack(_h("fork_bomb"), "relu", ("timeout",), "timeout", attacked="backward", suite="public",
                        sandbox_only="" if not IS_ROOT else "RLIMIT_NPROC is not enforced for root without the "
                        "sandbox's own uid"),
    "sys_exit_at_import": Attack(_h("sys_exit_at_import"), "relu", ("error",), "error", mention="SystemExit"),
    "sys_exit_in_call": Attack(_h("sys_exit_in_call"), "relu", ("error",), "error", mention="SystemExit"),
    "raise_systemexit_at_import": Attack(_h("raise_systemexit_at_import"), "relu", ("error",), "error",
                                         mention="SystemExit: 3"),
    "raise_systemexit_in_call": Attack(_h("raise_systemexit_in_call"), "relu", ("error",), "error",
                                       mention="SystemExit: 3"),
    "keyboard_interrupt_at_import": Attack(_h("keyboard_interrupt_at_import"), "relu", ("error",), "error",
                                           mention="KeyboardInterrupt"),
    "keyboard_interrupt_in_call": Attack(_h("keyboard_interrupt_in_call"), "relu", ("error",), "error",
                                         mention="KeyboardInterrupt"),
    "os_exit_at_import": Attack(_h("os_exit_at_import"), "relu", ("crash",), "crash", mention="exited with status 0"),
    "os_exit_in_call": Attack(_h("os_exit_in_call"), "relu", ("crash",), "crash", mention="exited with status 0"),
    "stdout_flood": Attack(_h("stdout_flood"), "relu", ("passed",), "passed", suite="public",
                           extra=("output_capped",)),
    "forge_patched_asserts": Attack(CORPUS / "forge_patched_asserts", "relu", ("tampered",), "tampered",
                                    mention="patched"),
    "forge_runner_replies": Attack(_h("forge_runner_replies"), "relu", ("tampered",), "tampered",
                                   mention="forged the runner's replies"),
    "forge_stack_frames": Attack(CORPUS / "forge_stack_frames", "softmax_ce", ("tampered",), "tampered",
                                 mention="call stack"),
    "forge_results_file": Attack(CORPUS / "forge_results_file", "residual", ("tampered",), "tampered",
                                 mention="results file"),
    "fake_gradebook": Attack(_h("fake_gradebook"), "relu", ("tampered",), "tampered", mention="results file"),
    "read_kit_files": Attack(_h("read_kit_files"), "relu", ("tampered",), "tampered", mention="grader's files",
                             sandbox_only="without the sandbox the kit's files are readable"),
    "forge_import_solutions": Attack(CORPUS / "forge_import_solutions", "relu", ("tampered",), "tampered",
                                     sandbox_only="without the sandbox the judge's /proc entry is readable"),
    "forge_ndarray_subclass": Attack(CORPUS / "forge_ndarray_subclass", "pooling", ("tampered",), "tampered",
                                     attacked="pool_(forward|backward)", mention="defining __eq__"),
    "forge_always_equal": Attack(CORPUS / "forge_always_equal", "conv", ("tampered", "failed", "error"),
                                 "tampered", mention=""),
    "array_protocol": Attack(_h("array_protocol"), "relu", ("tampered", "failed"), "tampered",
                             mention="__array"),
    "wrong_values": Attack(_h("wrong_values"), "relu", ("failed",), "failed", attacked="relu_(forward|backward)"),
    "honest_unusual_code": Attack(_h("honest_unusual_code"), "relu", ("passed", "failed"), "failed",
                                  attacked="backward", extra=("nothing_noted",)),
    "mutates_its_input": Attack(CORPUS / "relu_modifies_its_input", "relu", ("failed",), "failed",
                                attacked="forward_does_not_modify", mention="modified its input"),
    "outlive_runner": Attack(_h("outlive_runner"), "relu", ("passed",), "passed", suite="public",
                             extra=("outlived",)),
    "network": Attack(_h("network"), "relu", ("tampered",), "tampered", mention="network",
                      sandbox_only="without the sandbox the network is reachable", extra=("no_connection",)),
    # labelled tampered when a target lies outside /tmp; inside the sandbox /tmp is the runner's own, so a
    # kit checked out under /tmp (as in CI) makes it a plain failure. Either way: no credit, host untouched.
    "write_outside": Attack(_h("write_outside"), "relu", ("tampered", "failed"),
                            "failed" if str(KIT).startswith("/tmp/") else "tampered",
                            sandbox_only="without the sandbox the host's files are writable"),
}
# also graded without bubblewrap (rlimits only): what rlimits, the judge and the labels handle alone
FALLBACK = ["loop_at_import", "loop_in_call", "memory_bomb", "fork_bomb", "sys_exit_in_call", "os_exit_at_import",
            "os_exit_in_call", "keyboard_interrupt_at_import", "stdout_flood", "forge_patched_asserts",
            "forge_stack_frames", "forge_ndarray_subclass", "array_protocol", "wrong_values", "honest_unusual_code",
            "outlive_runner"]


class Host:
    """Canaries on the host and the other submission, and the placeholders the attacks are given."""

    def __init__(self, root: Path) -> None:
        self.canary_dir = root / "canary"
        self.canary_dir.mkdir()
        handle, name = tempfile.mkstemp(prefix="hostile-canary-", dir="/tmp")
        os.write(handle, uuid.uuid4().hex.encode())
        os.close(handle)
        self.host_tmp_canary = Path(name)
        self.kit_canary = KIT / f".hostile-canary-{uuid.uuid4().hex}"
        self.kit_canary.write_text(uuid.uuid4().hex)
        self.canary_name = f"hostile_{uuid.uuid4().hex}"
        self.good = reference_submission(root / "good")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        self.before = self.snapshot()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(64))
                except OSError:
                    self.connections.append(b"")

    def placeholders(self) -> dict[str, str]:
        return {"@CANARY_DIR@": str(self.canary_dir), "@HOST_TMP_CANARY@": str(self.host_tmp_canary),
                "@KIT_CANARY@": str(self.kit_canary), "@KIT@": str(KIT), "@OTHER@": str(self.good),
                "@PORT@": str(self.listener.getsockname()[1]), "@CANARY_NAME@": self.canary_name}

    def snapshot(self) -> dict[str, str]:
        files = {"host /tmp canary": self.host_tmp_canary, "kit canary": self.kit_canary,
                 **{f"other submission's {p.name}": p for p in sorted(self.good.iterdir())}}
        state = {name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "missing"
                 for name, p in files.items()}
        state["canary directory"] = ",".join(sorted(p.name for p in self.canary_dir.iterdir()))
        state["kit solutions/"] = ",".join(sorted(p.name for p in (KIT / "solutions").iterdir()
                                                  if self.canary_name in p.name))
        return state

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()
        self.host_tmp_canary.unlink(missing_ok=True)
        self.kit_canary.unlink(missing_ok=True)
        for path in (KIT / "solutions").glob(f"{self.canary_name}*"):
            path.unlink()


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path)
    yield host
    host.close()


def materialize(attack: Attack, target: Path, placeholders: dict[str, str]) -> Path:
    """The reference submission with the attack's files in place of its own, placeholders filled in."""
    reference_submission(target)
    for path in attack.source.glob("*.py"):
        text = path.read_text()
        for key, value in placeholders.items():
            text = text.replace(key, value)
        (target / path.name).write_text(text)
    return target


def leftovers(marker: str, uids: set[int]) -> list[str]:
    """Processes (other than this one) whose command line mentions ``marker`` or that run as one of ``uids``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{entry}/status") as f:
                uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if marker in command or uid in uids:
            found.append(f"pid {entry} uid {uid}: {command[:160]}")
    return found


def wait_for_no_leftovers(marker: str, uids: set[int], seconds: float = 10.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        found = leftovers(marker, uids)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def grade_side_by_side(attack: Attack, root: Path, host: Host, no_sandbox: bool) -> tuple[SuiteRun, SuiteRun]:
    """Grade the attack (short limits) and the correct submission (default limits) at the same time."""
    hostile = materialize(attack, root / "hostile", host.placeholders())
    with ThreadPoolExecutor(max_workers=2) as pool:
        bad = pool.submit(run_suite, hostile, attack.suite, [attack.exercise], no_sandbox=no_sandbox,
                          workdir=root, **LIMITS)
        good = pool.submit(run_suite, host.good, attack.suite, [attack.exercise], no_sandbox=no_sandbox,
                           workdir=root)
        return bad.result(), good.result()


def check_output_capped(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    output = bad.runner_output.get(attack.exercise, "")
    assert 64 * 1024 - 16 <= len(output.encode("utf-8", "replace")) <= 64 * 1024 + 16, len(output)
    assert output.startswith("flood")
    assert bad.duration < 60


def check_outlived(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    time.sleep(max(0.0, 8.0 - bad.duration))  # the child meant to write 6 s after the first call
    assert not (host.canary_dir / "outlived").exists()


def check_no_connection(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    time.sleep(0.5)
    assert host.connections == []


def check_nothing_noted(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    assert bad.runner_notes == {}


CHECKS: dict[str, Callable[[Attack, SuiteRun, SuiteRun, Host], None]] = {
    "output_capped": check_output_capped, "outlived": check_outlived, "no_connection": check_no_connection,
    "nothing_noted": check_nothing_noted,
}


def check_attack(name: str, tmp_path: Path, host: Host, no_sandbox: bool) -> None:
    attack = ATTACKS[name]
    bad, good = grade_side_by_side(attack, tmp_path, host, no_sandbox)
    for extra in attack.extra:
        CHECKS[extra](attack, bad, good, host)

    # the batch completed, and said how the runners ran
    assert bad.status == "completed", bad.message
    assert good.status == "completed", good.message
    assert bad.sandbox == ("rlimits-only" if no_sandbox else sandbox.status())

    # what it attacks: no credit, and a status that says what happened
    results = [r for r in bad.results if r.exercise == attack.exercise]
    attacked = [r for r in results if re.search(attack.attacked, r.nodeid)] if attack.attacked else results
    assert attacked, [r.nodeid for r in results]
    report = {r.nodeid.split("::")[-1]: (r.status, r.output[:300]) for r in attacked}
    assert {r.status for r in attacked} <= set(attack.statuses), report
    assert attack.signature in {r.status for r in attacked}, report
    if attack.signature != "passed":
        assert sum(r.points for r in attacked) == 0, report
    if attack.mention:
        signed = [r for r in attacked if r.status == attack.signature]
        assert any(attack.mention in r.output for r in signed), report

    # the other submission: full marks
    assert good.results and all(r.status == "passed" for r in good.results), \
        [(r.nodeid, r.status, r.output) for r in good.results if r.status != "passed"]
    if attack.suite == "hidden":
        assert round(sum(r.points for r in good.results), 6) == WEIGHTS[attack.exercise]
    assert good.runner_notes == {}  # nothing an honest submission does is noted

    # the host: canaries untouched, no process left behind
    assert host.snapshot() == host.before
    uids = set(bad.runner_uids) | set(good.runner_uids)
    assert wait_for_no_leftovers(str(tmp_path), uids) == []


def test_every_attack_directory_is_listed():
    listed = {a.source.name for a in ATTACKS.values() if a.source.parent == HOSTILE}
    assert {p.name for p in HOSTILE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))} == listed
    assert all(a.source.is_dir() for a in ATTACKS.values())
    assert set(FALLBACK) <= set(ATTACKS)


@pytest.mark.skipif(not HAS_BWRAP, reason="needs bubblewrap")
@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_in_the_sandbox(name, tmp_path, host):
    check_attack(name, tmp_path, host, no_sandbox=False)


@pytest.mark.parametrize("name", FALLBACK)
def test_an_attack_without_the_sandbox(name, tmp_path, host):
    if ATTACKS[name].sandbox_only:
        pytest.skip(ATTACKS[name].sandbox_only)
    check_attack(name, tmp_path, host, no_sandbox=True)

