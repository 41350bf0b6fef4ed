"""How the sandbox tier is chosen, and the pieces each tier is made of, one at a time.

The decision (grader.jail.sandbox), bubblewrap's arguments, runner identities and what the judge does
after a runner (grader.jail.identity), the network filter (grader.jail.seccomp, loaded by the worker),
and the staging directories: no reference code is ever staged for a runner. What a runner can actually
do in each tier is in test_sandbox.py; the reference kernels the judge computes, in test_kernel_service.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from leaks import leaked
from runner_probe import tiers_here

from grader.instructor.release import _functions, solution_fingerprints
from grader.jail import bwrap, identity, sandbox, seccomp
from grader.jail.staging import build_stage
from grader.vocabulary.exercises import EXERCISES

KIT = Path(__file__).resolve().parent.parent
IS_ROOT = os.geteuid() == 0
HAS_BWRAP = bwrap.available() is not None
HERE = tiers_here()
UID_TIER = next((t for t in HERE if t.startswith("uid")), "uid")


@pytest.fixture(autouse=True)
def _fresh_decisions():
    """Decisions are cached per process; a test that fakes the machine must not leave its answer behind."""
    sandbox._uid_tier.cache_clear()
    yield
    sandbox._uid_tier.cache_clear()


# ----- the decision -----

def test_the_tiers_rank_strongest_first_and_old_labels_rank_last():
    assert [sandbox.rank(t) for t in sandbox.TIERS] == [0, 1, 2, 3]
    assert sandbox.rank("") == sandbox.rank("whatever") == len(sandbox.TIERS)


def test_rlimits_only_is_had_by_asking_and_by_the_old_variable(monkeypatch):
    assert sandbox.decide("rlimits-only").tier == "rlimits-only"
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")
    assert sandbox.decide().tier == "rlimits-only" and sandbox.for_judge() == "rlimits-only"
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    monkeypatch.setenv("GRADER_SANDBOX", "bwrap")
    assert sandbox.for_judge() == "bwrap"  # a judge takes the tier its host decided, without probing


def test_an_explicit_tier_that_cannot_run_here_is_one_line_saying_why(monkeypatch):
    monkeypatch.setattr(bwrap, "available", lambda: None)
    monkeypatch.setattr(bwrap, "why_unavailable", lambda: "bubblewrap is not installed")
    with pytest.raises(sandbox.SandboxUnavailable, match=r"sandbox bwrap: bubblewrap is not installed; install"):
        sandbox.decide("bwrap")
    monkeypatch.setattr(identity, "is_root", lambda: False)
    with pytest.raises(sandbox.SandboxUnavailable, match=r"sandbox uid: .*root judge"):
        sandbox.decide("uid")
    with pytest.raises(sandbox.SandboxUnavailable, match=r"choose one of auto, bwrap, uid, rlimits-only"):
        sandbox.decide("docker")


def test_auto_takes_bubblewrap_where_it_works_and_says_why_not_otherwise(monkeypatch):
    if HAS_BWRAP:
        assert sandbox.decide().tier == "bwrap" and sandbox.decide().reasons == ()
    monkeypatch.setattr(bwrap, "available", lambda: None)
    monkeypatch.setattr(bwrap, "why_unavailable", lambda: "bubblewrap is not installed")
    monkeypatch.setattr(identity, "is_root", lambda: False)
    decision = sandbox.decide()
    assert decision.tier == "rlimits-only"
    assert decision.reasons == ("bubblewrap is not installed", "not root, so runners cannot get uids of their own")
    line = decision.line()
    assert line.startswith("sandbox: rlimits-only: runners run as you") and "\n" not in line
    assert sandbox.decide(grading=False).tier == "rlimits-only"  # a student's check never probes uids


def test_a_uid_decision_names_what_a_runner_could_read():
    decision = sandbox.Decision("uid+seccomp", (), ("/srv/kit/grader/suites/hidden/test_conv.py", "/srv/b"))
    assert decision.uses_uid and decision.exposure().startswith(
        "the runners' uids could read /srv/kit/grader/suites/hidden/test_conv.py (and 1 more): make it unreadable")
    assert sandbox.Decision("uid").exposure() == ""
    assert "NOT denied" in sandbox.Decision("uid").line()


def test_the_kit_secrets_are_the_grader_and_the_reference():
    secrets = sandbox.kit_secrets()
    assert KIT / "grader" in secrets and KIT / "solutions" in secrets


@pytest.mark.skipif(not UID_TIER.startswith("uid") or bool(HERE.get(UID_TIER)), reason=HERE.get(UID_TIER, ""))
def test_the_uid_probe_finds_a_readable_file_of_the_judges(tmp_path):
    """Runs where the uid tier works (the Gradescope-like container): exposure is found by trying."""
    shared = Path("/tmp") / f"exposed-{os.getpid()}"
    shared.mkdir(mode=0o755)
    try:
        (shared / "gradebook.csv").write_text("alice,100\n")
        os.chmod(shared / "gradebook.csv", 0o644)
        (shared / "private.csv").write_text("bob,0\n")
        os.chmod(shared / "private.csv", 0o600)
        report = identity.probe([shared])
        assert report.ok and report.readable == [str(shared / "gradebook.csv")]
        decision = sandbox.decide("uid", paths=[shared])
        assert decision.readable == (str(shared / "gradebook.csv"),)
    finally:
        for p in shared.iterdir():
            p.unlink()
        shared.rmdir()


# ----- bubblewrap's arguments -----

@pytest.mark.skipif(not HAS_BWRAP, reason="needs bubblewrap")
def test_the_bwrap_arguments():
    base = identity.RUNNER_UID_BASE
    args = bwrap.wrap(["python"], staging=Path("/srv/j/stage"), scratch=Path("/srv/j/scratch"), read_only=(),
                      env={"A": "1"}, run_as=(base, base))
    joined = " ".join(args)
    assert "--perms 0755 --dir /srv --perms 0755 --dir /srv/j" in joined
    assert f"--size {bwrap.TMPFS_BYTES} --perms 1777 --tmpfs /srv/j/scratch" in joined
    assert "--unshare-all" not in args and "--unshare-net" in args and "--unshare-pid" in args
    assert "--cap-add CAP_SETUID --cap-add CAP_SETGID" in joined
    assert args[-2:] == ["--", "python"]
    plain = bwrap.wrap(["python"], staging=Path("/s"), scratch=Path("/t"), read_only=(), env={})
    assert "--unshare-all" in plain and "--cap-add" not in plain


@pytest.mark.skipif(not (IS_ROOT and HAS_BWRAP and os.path.exists("/usr/bin/setpriv")),
                    reason="needs root, bubblewrap and setpriv")
def test_an_unprivileged_judges_bwrap_arguments_work_and_forbid_nested_user_namespaces():
    """As a user, bwrap counts RLIMIT_NPROC in the sandbox's user namespace and refuses `unshare -U`."""
    args = [bwrap.available(), *bwrap._system_binds(), "--proc", "/proc", "--dev", "/dev",
            *bwrap._namespaces(drop_to_user=False)]
    assert "--disable-userns" not in args  # root's own arguments
    script = "ulimit -u 4; (sleep 1 & sleep 1 & sleep 1 & sleep 1 & wait) 2>&1 | head -1; unshare -U true; echo $?"
    user_args = [a for a in args if a != "--cap-drop" and a != "ALL"]
    user_args[user_args.index("--unshare-all") + 1:user_args.index("--unshare-all") + 1] = [
        "--unshare-user", "--disable-userns"]
    result = subprocess.run(["/usr/bin/setpriv", "--reuid", "54321", "--regid", "54321", "--clear-groups",
                             *user_args, "--", "/bin/bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert "Resource temporarily unavailable" in result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] != "0"


# ----- runner identities and what the judge does after a runner -----

def test_each_runner_start_gets_a_fresh_uid_in_its_judges_block():
    first, second = identity.next_identity(), identity.next_identity()
    block = identity.block(os.getpid())
    assert first != second and first[0] in block and second[0] in block and first[0] == first[1]
    assert block[identity.PROBE_SLOT] not in (first[0], second[0])  # the probe's uid is never a runner's
    assert identity.block(1).start != identity.block(2).start and len(block) == 64


@pytest.mark.skipif(not IS_ROOT, reason="needs root to start processes and files under other uids")
def test_everything_running_as_a_runner_uid_is_killed_and_its_tmp_files_removed():
    uid = identity.block(os.getpid())[identity.PROBE_SLOT - 1]
    sleepers = [subprocess.Popen(["/bin/sleep", "60"], user=uid, group=uid, extra_groups=[],
                                 start_new_session=True) for _ in range(3)]
    left = Path("/tmp") / f"left-{uid}"
    left.write_text("x")
    os.chown(left, uid, uid)
    assert set(identity.processes_of([uid])) >= {p.pid for p in sleepers}
    identity.clean_up_after([uid])
    for sleeper in sleepers:
        assert sleeper.wait(timeout=5) == -9
    assert identity.processes_of([uid]) == [] and not left.exists()


def _make_ipc_as(uid: int) -> None:
    """As ``uid``: a shared memory segment, a message queue and a semaphore set, open to every uid, left
    behind on exit as a hostile runner could (tests/hostile/leave_system_v_ipc also fills the memory)."""
    subprocess.run(["ipcmk", "-M", "1M", "-Q", "-S", "1", "-p", "0666"], user=uid, group=uid, extra_groups=[],
                   check=True, capture_output=True, timeout=30)


@pytest.mark.skipif(not (IS_ROOT and os.path.exists("/proc/sysvipc/shm") and shutil.which("ipcmk")),
                    reason="needs root, Linux's System V IPC and ipcmk to make objects as another uid")
def test_the_system_v_ipc_a_runner_uid_left_is_removed_with_it():
    uid, bystander = identity.block(os.getpid())[identity.PROBE_SLOT - 2:identity.PROBE_SLOT]
    _make_ipc_as(uid)
    _make_ipc_as(bystander)
    try:
        made = identity.ipc_of([uid])
        assert sorted(kind for kind, _, _ in made) == ["msg", "sem", "shm"] and {r for _, _, r in made} == {uid}
        identity.clean_up_after([uid])
        assert identity.ipc_of([uid]) == []
        assert sorted(kind for kind, _, _ in identity.ipc_of([bystander])) == ["msg", "sem", "shm"]  # not its own
    finally:
        identity.remove_ipc_of([uid, bystander])
    assert identity.ipc_of([uid, bystander]) == []


def test_a_closed_folder_on_the_way_is_named_until_it_is_opened_to_runners():
    folder = Path(tempfile.mkdtemp(prefix="closed-"))  # 0700, under the system's /tmp
    try:
        (folder / "inner").mkdir(mode=0o755)
        assert identity.closed_ancestor(str(folder / "inner" / "x")) == str(folder)
        identity.open_to_runners(folder)
        assert folder.stat().st_mode & 0o777 == 0o711 and identity.closed_ancestor(str(folder / "inner" / "x")) is None
    finally:
        shutil.rmtree(folder)


# ----- the network filter -----

FILTERED = r"""
import ctypes, json, socket, sys
from grader.runner import worker
ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # no_new_privs, as the worker sets it first
worker._deny_network(bytes.fromhex(sys.argv[1]))
found = {}
for name, family in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6), ("unix", socket.AF_UNIX)):
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
        found[name] = 0
    except OSError as err:
        found[name] = err.errno
a, b = socket.socketpair()
a.sendall(b"ok")
found["socketpair"] = b.recv(2).decode()
print(json.dumps(found))
"""


@pytest.mark.skipif(seccomp.network_filter() is None, reason="needs a libseccomp binding (pyseccomp)")
def test_the_network_filter_refuses_every_socket_and_keeps_socketpair():
    program = seccomp.network_filter()
    assert len(program) % 8 == 0 and len(program) // 8 >= 5
    done = subprocess.run([sys.executable, "-c", FILTERED, program.hex()], capture_output=True, text=True,
                          timeout=60, cwd=KIT, env={**os.environ, "PYTHONPATH": str(KIT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"inet": 13, "inet6": 13, "unix": 13, "socketpair": "ok"}  # EACCES
    with socket.socket() as s:  # this process is untouched
        s.bind(("127.0.0.1", 0))


def test_a_filter_that_does_not_load_stops_the_runner_before_any_submission_code():
    done = subprocess.run([sys.executable, "-c", "from grader.runner import worker; worker._deny_network(b'x' * 3)"],
                          capture_output=True, text=True, timeout=60, cwd=KIT,
                          env={**os.environ, "PYTHONPATH": str(KIT)})
    assert done.returncode == 70 and "cannot load the network filter" in done.stderr


# ----- staging: no reference code for any runner -----

@pytest.mark.parametrize("exercise", EXERCISES)
def test_no_runner_is_ever_staged_reference_code(exercise, tmp_path):
    (tmp_path / "submission").mkdir()
    stage = build_stage(tmp_path / "judge", tmp_path / "submission", exercise)
    fingerprints = solution_fingerprints(KIT)
    files = [p for p in stage.rglob("*.py")] + list((tmp_path / "judge" / "runtime").rglob("*.py"))
    assert files
    for path in files:
        assert [name for name, fp, _ in _functions(path) if fp in fingerprints] == [], path
        assert leaked([path.read_text()]) == [], path
    kernels = stage / "judge_kernels"
    assert kernels.is_dir() == (exercise == "residual")
    if kernels.is_dir():
        assert sorted(p.name for p in kernels.iterdir()) == ["__init__.py", "conv.py", "relu.py"]
        assert "conv2d_backward = remote('conv2d_backward', needs_input_grad=True)" in (kernels / "conv.py").read_text()


def test_staged_files_are_readable_by_a_runner_whatever_the_judges_umask(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "relu.py").write_text("x = 1\n")
    old = os.umask(0o077)
    try:
        stage = build_stage(tmp_path / "judge", tmp_path / "submission", "relu")
    finally:
        os.umask(old)
    for path in [stage, *stage.rglob("*")]:
        if not path.is_symlink():
            assert path.stat().st_mode & 0o004, path
