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

Every attack runs in each confining tier this machine has: bubblewrap, and runner uids of their own (root
without user namespaces, as on Gradescope: tests/test_gradescope_container.py runs this file in such a
container). The attacks that only confinement stops (reading or writing the judge's files, the network,
a fork bomb as root) are not run with rlimits only; the others are, as ``--sandbox rlimits-only`` grades.
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
from pathlib import Path

import pytest
from attacks import ATTACKS, FALLBACK, HOSTILE, KIT, Attack, materialize
from kit_copies import reference_submission
from leaks import leaked, secret_lines
from runner_probe import tiers_here

from grader.host.launch import SuiteRun, run_suite
from grader.jail import identity
from grader.vocabulary.exercises import WEIGHTS
from grader.vocabulary.options import Limits

pytestmark = pytest.mark.slow

LIMITS = {"test_timeout": 3.0, "total_timeout": 150.0, "limits": Limits(memory_mb=512, cpu_seconds=30)}
HERE = tiers_here()
UID_TIER = next((t for t in HERE if t.startswith("uid")), "uid")


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
                "@PORT@": str(self.listener.getsockname()[1]), "@CANARY_NAME@": self.canary_name,
                "@TMP@": str(self.canary_dir.parent), "@RESULTS@": str(self.canary_dir)}

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


def grade_side_by_side(attack: Attack, root: Path, host: Host, tier: str) -> tuple[SuiteRun, SuiteRun]:
    """Grade the attack (short limits) and the correct submission (default limits) at the same time.

    Runners under uids of their own need a work folder they can traverse: the system's temp folder then
    (the test's own is closed to other users, which keeps the canaries and the other submission from them).
    """
    hostile = materialize(attack, root / "hostile", host.placeholders())
    workdir = None if tier.startswith("uid") else root
    with ThreadPoolExecutor(max_workers=2) as pool:
        bad = pool.submit(run_suite, hostile, attack.suite, list(attack.exercises), sandbox=tier,
                          workdir=workdir, **LIMITS)
        good = pool.submit(run_suite, host.good, attack.suite, list(attack.exercises), sandbox=tier,
                           workdir=workdir)
        return bad.result(), good.result()


def check_output_capped(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    assert bad.duration < 60  # the flood stopped at the file-size limit; nobody reads it


def check_outlived(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    time.sleep(max(0.0, 8.0 - bad.duration))  # the child meant to write 6 s after the first call
    assert not (host.canary_dir / "outlived").exists()


def check_no_connection(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    time.sleep(0.5)
    assert host.connections == []


def check_no_ipc_left(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    key = int(host.canary_name[-7:], 16)  # the attack's key: leave_system_v_ipc/relu.py
    assert [(kind, fields) for kind, fields in identity.sysv_ipc() if fields["key"] == key] == []


def check_nothing_noted(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    assert bad.runner_notes == {}


def check_nothing_leaked(attack: Attack, bad: SuiteRun, good: SuiteRun, host: Host) -> None:
    assert len(secret_lines()) > 100
    found = leaked([r.output for r in bad.results])
    assert found == [], found[:5]


CHECKS: dict[str, Callable[[Attack, SuiteRun, SuiteRun, Host], None]] = {
    "output_capped": check_output_capped, "outlived": check_outlived, "no_connection": check_no_connection,
    "nothing_noted": check_nothing_noted, "nothing_leaked": check_nothing_leaked,
    "no_ipc_left": check_no_ipc_left,
}


def check_attack(name: str, tmp_path: Path, host: Host, tier: str) -> None:
    attack = ATTACKS[name]
    bad, good = grade_side_by_side(attack, tmp_path, host, tier)
    for extra in attack.extra:
        CHECKS[extra](attack, bad, good, host)

    # the batch completed, and said how the runners ran
    assert bad.status == "completed", bad.message
    assert good.status == "completed", good.message
    assert bad.sandbox == tier == good.sandbox

    # what it attacks: no credit, and a status that says what happened
    results = [r for r in bad.results if r.exercise in attack.exercises]
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
        assert round(sum(r.points for r in good.results), 6) == sum(WEIGHTS[e] for e in attack.exercises)
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


def tier_param(tier: str) -> object:
    reason = HERE.get(tier, "not available here")
    return pytest.param(tier, marks=pytest.mark.skipif(bool(reason), reason=reason), id=tier)


@pytest.mark.parametrize("tier", [tier_param("bwrap"), tier_param(UID_TIER)])
@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_on_a_confined_runner(name, tier, tmp_path, host):
    if tier == "uid" and ATTACKS[name].needs_seccomp:
        pytest.skip("without a libseccomp binding the uid tier leaves the network open")
    check_attack(name, tmp_path, host, tier)


@pytest.mark.parametrize("name", FALLBACK)
def test_an_attack_with_rlimits_only(name, tmp_path, host):
    if ATTACKS[name].sandbox_only:
        pytest.skip(ATTACKS[name].sandbox_only)
    check_attack(name, tmp_path, host, "rlimits-only")
