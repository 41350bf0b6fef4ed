"""The runner's sandbox and limits, checked from inside a runner, and the judge's side of them.

Each test starts a runner on a probe submission (``relu.py`` holding the probe functions below) and asks
it what it can see and do: who it runs as, its rlimits, how many processes it may start, how large a
file it may write, whether it reaches the network or the host's files, and what is left when it is
killed. The wire format's and the comparisons' defences are in test_wire.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.judge import sandbox
from grader.judge.proxy import (
    DEFAULT_LIMITS,
    RunnerCrashed,
    RunnerOutOfMemory,
    RunnerProxy,
    RunnerTimeout,
    StudentError,
)
from grader.judge.staging import build_runtime, build_stage, runtime_mounts

KIT = Path(__file__).resolve().parent.parent
HAS_BWRAP = sandbox.bwrap() is not None
IS_ROOT = os.geteuid() == 0
needs_bwrap = pytest.mark.skipif(not HAS_BWRAP, reason="needs bubblewrap")

PROBE = '''
import json, os, resource, signal, socket, sys, time


def identity():
    status = [l for l in open("/proc/self/status").read().splitlines() if l.startswith(("Cap", "NoNewPrivs"))]
    limits = {n: resource.getrlimit(getattr(resource, n)) for n in
              ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_NOFILE")}
    return json.dumps({"uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(), "status": status,
                       "limits": limits, "sigxfsz": int(signal.getsignal(signal.SIGXFSZ)), "cwd": os.getcwd(),
                       "oom_score_adj": int(open("/proc/self/oom_score_adj").read()),
                       "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())})


def fork_until_refused(limit):
    children = []
    try:
        while len(children) < limit:
            pid = os.fork()
            if pid == 0:
                time.sleep(3)
                os._exit(0)
            children.append(pid)
    except OSError as err:
        refused = err.errno
    else:
        refused = 0
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return [len(children), refused]


def write_file(name, megabytes):
    written = 0
    try:
        with open(name, "wb", buffering=0) as f:
            for _ in range(megabytes):
                written += f.write(b"x" * (1 << 20))
    except OSError as err:
        return [written, err.errno]
    return [written, 0]


def flood(megabytes):
    line = "y" * 1023 + "\\n"
    for _ in range(megabytes * 1024):
        try:
            sys.stdout.write(line)
        except OSError:
            pass
    return "flooded"


def spin(ignore_xcpu):
    if ignore_xcpu:
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    while True:
        pass


def allocate(megabytes):
    return len(bytearray(megabytes << 20))


def die(how):
    if how == "exit":
        os._exit(3)
    os.kill(os.getpid(), getattr(signal, how))
    time.sleep(10)


def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as err:
        return err.errno
    return 0


def leave_a_sleeper(seconds):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(seconds)
            os._exit(0)
        os._exit(0)
    os.wait()
    return "left"


def look(paths):
    found = {}
    for path in paths:
        found[path] = [os.path.exists(path), os.access(path, os.W_OK) if os.path.exists(path) else False]
    return json.dumps(found)


def fill_tmp(megabytes):
    written = 0
    for i in range(megabytes // 8):
        try:
            with open(f"/tmp/fill-{i}", "wb") as f:
                f.write(b"z" * (8 << 20))
            written += 8
        except OSError as err:
            return [written, err.errno]
    return [written, 0]
'''


@pytest.fixture
def runner(tmp_path):
    """Start runners on the probe submission: ``runner(limits=..., sandboxed=...)``."""
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "relu.py").write_text(textwrap.dedent(PROBE))
    proxies = []

    def start(limits: dict[str, int] | None = None) -> RunnerProxy:
        root = tmp_path / f"judge-{len(proxies)}"
        stage = build_stage(root, tmp_path / "submission", "relu")
        env = {"GRADER_RUNTIME_PATH": str(build_runtime(root))}
        proxy = RunnerProxy(stage, root / "scratch-relu", {**DEFAULT_LIMITS, **(limits or {})}, env,
                            read_only=runtime_mounts(root))
        proxy.start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def no_sandbox(monkeypatch):
    """Runners started in this test run without bubblewrap, as where it is missing."""
    monkeypatch.setenv("GRADER_NO_SANDBOX", "1")
    sandbox.bwrap.cache_clear()
    yield
    monkeypatch.delenv("GRADER_NO_SANDBOX")
    sandbox.bwrap.cache_clear()


def call(proxy: RunnerProxy, function: str, *args, timeout: float = 20.0):
    return proxy.call("relu", function, args, {}, timeout)


def processes_of(uids: set[int], marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except (OSError, StopIteration, ValueError):
            continue
        if uid in uids or marker in command:
            found.append(f"{entry} {uid} {command[:120]}")
    return found


# ----- who the runner is, and its limits -----

@needs_bwrap
def test_a_sandboxed_runner_has_every_limit_no_capabilities_and_its_own_uid(runner):
    proxy = runner({"cpu_seconds": 77, "processes": 33, "open_files": 99, "file_size": 5 << 20,
                    "address_space": 1 << 30})
    info = json.loads(call(proxy, "identity"))
    assert info["limits"] == {"RLIMIT_AS": [1 << 30, 1 << 30], "RLIMIT_CPU": [77, 79],
                              "RLIMIT_FSIZE": [5 << 20, 5 << 20], "RLIMIT_NPROC": [33, 33],
                              "RLIMIT_NOFILE": [99, 99]}
    assert info["sigxfsz"] == int(signal.SIG_IGN)
    assert info["oom_score_adj"] == 1000  # the out-of-memory killer takes runners first
    assert "NoNewPrivs:\t1" in info["status"]
    assert {line.split(":")[0]: int(line.split()[1], 16) for line in info["status"] if line.startswith("Cap")
            and not line.startswith("CapBnd")} == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapAmb": 0}
    assert info["pids"] == [1, 2]  # a PID namespace of its own: bwrap's init and the runner
    if IS_ROOT:
        uid = info["uid"][0]
        assert info["uid"] == [uid] * 3 and info["gid"] == [uid] * 3 and info["groups"] == []
        assert sandbox.RUNNER_UID_BASE <= uid < sandbox.RUNNER_UID_BASE + (1 << 28)
        assert proxy.uids == [uid]


@needs_bwrap
def test_two_runners_of_a_root_judge_get_different_uids(runner):
    if not IS_ROOT:
        pytest.skip("only a root judge switches uids")
    first, second = runner(), runner()
    assert json.loads(call(first, "identity"))["uid"] != json.loads(call(second, "identity"))["uid"]


@needs_bwrap
def test_the_process_limit_holds_inside_the_sandbox(runner):
    proxy = runner({"processes": 16})
    forked, errno = call(proxy, "fork_until_refused", 200)
    assert errno == 11 and forked < 16  # EAGAIN: the runner itself and bwrap's init count too
    assert call(proxy, "identity")  # and the runner goes on


def test_a_write_past_the_file_size_limit_fails_and_the_runner_goes_on(runner):
    proxy = runner({"file_size": 4 << 20})
    written, errno = call(proxy, "write_file", "big.bin", 20)
    assert (written, errno) == (4 << 20, 27)  # EFBIG, not SIGXFSZ
    assert call(proxy, "identity")


def test_a_flood_of_output_is_cut_at_the_file_size_limit_and_the_judge_reads_64_kib(runner):
    proxy = runner({"file_size": 2 << 20})
    start = time.monotonic()
    assert call(proxy, "flood", 100) == "flooded"
    assert time.monotonic() - start < 30
    assert os.path.getsize(proxy.scratch / "runner-output.log") == 2 << 20
    assert len(proxy.output()) == 64 * 1024
    proxy.close()
    assert len(proxy.output()) == 64 * 1024


def test_running_out_of_address_space_is_a_memory_error(runner):
    proxy = runner({"address_space": 1 << 30})
    with pytest.raises(StudentError) as err:
        call(proxy, "allocate", 2048)
    assert err.value.out_of_memory
    assert call(proxy, "allocate", 16) == 16 << 20


@pytest.mark.parametrize("ignore_xcpu", [False, True], ids=["sigxcpu", "sigkill_at_the_hard_limit"])
def test_the_cpu_limit_stops_a_spinning_runner_as_a_timeout(runner, ignore_xcpu):
    proxy = runner({"cpu_seconds": 1})
    with pytest.raises(RunnerTimeout, match="CPU time"):
        call(proxy, "spin", ignore_xcpu, timeout=30)


@pytest.mark.parametrize(("how", "error", "words"), [
    ("exit", RunnerCrashed, "exited with status 3"),
    ("SIGSEGV", RunnerCrashed, "SIGSEGV"),
    ("SIGKILL", RunnerOutOfMemory, "out of memory"),
])
def test_how_a_runner_died_is_reported(runner, how, error, words):
    proxy = runner()
    with pytest.raises(error, match=words) as err:
        call(proxy, "die", how)
    if error is RunnerCrashed:
        assert not isinstance(err.value, RunnerOutOfMemory)
    assert call(proxy, "identity")  # the next call gets a fresh runner


def test_a_runner_that_does_not_answer_is_killed_at_the_deadline(runner):
    proxy = runner()
    start = time.monotonic()
    with pytest.raises(RunnerTimeout, match="no answer within"):
        call(proxy, "spin", True, timeout=1.0)
    assert time.monotonic() - start < 5
    assert not proxy.alive


# ----- what a sandboxed runner sees -----

@needs_bwrap
def test_nothing_a_sandboxed_runner_started_outlives_it(runner):
    proxy = runner()
    assert call(proxy, "leave_a_sleeper", 60) == "left"
    uids = set(proxy.uids)
    marker = str(proxy.staging)
    assert processes_of(uids, marker)  # the runner and its sleeper are there
    proxy.close()
    deadline = time.monotonic() + 10
    while processes_of(uids, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of(uids, marker) == []


@needs_bwrap
def test_a_sandboxed_runner_has_no_network(runner):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        errno = call(runner(), "connect", listener.getsockname()[1])
        assert errno != 0
        with pytest.raises(socket.timeout):
            listener.accept()


@needs_bwrap
def test_a_sandboxed_runner_sees_neither_the_kit_nor_the_hosts_files(runner, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("host")
    proxy = runner()
    seen = json.loads(call(proxy, "look", [str(KIT), str(KIT / "solutions" / "relu.py"), str(canary), "/",
                                           "/tmp", str(proxy.staging), str(proxy.scratch), "/root", "/home"]))
    # the checkout's directory may exist in there only as the path to a virtual environment's NumPy
    assert seen[str(KIT / "solutions" / "relu.py")] == [False, False]
    numpy_dir = str(Path(np.__file__).resolve().parent)
    assert seen[str(KIT)] == [False, False] or numpy_dir.startswith(str(KIT) + "/")
    assert seen[str(canary)] == [False, False]
    assert seen["/"] == [True, False] and seen[str(proxy.staging)] == [True, False]
    assert seen["/tmp"] == [True, True] and seen[str(proxy.scratch)] == [True, True]
    assert not seen["/home"][0]


@needs_bwrap
def test_a_sandboxed_runners_tmp_is_small(runner):
    written, errno = call(runner({"file_size": 16 << 20}), "fill_tmp", 200)
    assert errno == 28 and written <= sandbox.TMPFS_BYTES >> 20  # ENOSPC


def test_the_sandbox_arguments():
    if not HAS_BWRAP:
        assert sandbox.sandboxed(["x"], staging=Path("/a"), scratch=Path("/b"), read_only=(), env={}) == ["x"]
        return
    args = sandbox.sandboxed(["python"], staging=Path("/srv/j/stage"), scratch=Path("/srv/j/scratch"),
                             read_only=(), env={"A": "1"}, run_as=(sandbox.RUNNER_UID_BASE, sandbox.RUNNER_UID_BASE))
    joined = " ".join(args)
    assert "--perms 0755 --dir /srv --perms 0755 --dir /srv/j" in joined
    assert f"--size {sandbox.TMPFS_BYTES} --perms 1777 --tmpfs /srv/j/scratch" in joined
    assert "--unshare-all" not in args and "--unshare-net" in args and "--unshare-pid" in args
    assert "--cap-add CAP_SETUID --cap-add CAP_SETGID" in joined
    assert args[-2:] == ["--", "python"]
    plain = sandbox.sandboxed(["python"], staging=Path("/s"), scratch=Path("/t"), read_only=(), env={})
    assert "--unshare-all" in plain and "--cap-add" not in plain


@pytest.mark.skipif(not (IS_ROOT and HAS_BWRAP and os.path.exists("/usr/bin/setpriv")),
                    reason="needs root, bubblewrap and setpriv")
def test_an_unprivileged_judges_bwrap_arguments_work_and_forbid_nested_user_namespaces():
    """As a user, bwrap counts RLIMIT_NPROC in the sandbox's user namespace and refuses `unshare -U`."""
    args = [sandbox.bwrap(), *sandbox._system_binds(), "--proc", "/proc", "--dev", "/dev",
            *sandbox._namespaces(drop_to_user=False)]
    assert "--disable-userns" not in args  # root's own arguments
    script = "ulimit -u 4; (sleep 1 & sleep 1 & sleep 1 & sleep 1 & wait) 2>&1 | head -1; unshare -U true; echo $?"
    user_args = [a for a in args if a != "--cap-drop" and a != "ALL"]
    user_args[user_args.index("--unshare-all") + 1:user_args.index("--unshare-all") + 1] = [
        "--unshare-user", "--disable-userns"]
    result = subprocess.run(["/usr/bin/setpriv", "--reuid", "54321", "--regid", "54321", "--clear-groups",
                             *user_args, "--", "/bin/bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert "Resource temporarily unavailable" in result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] != "0"


# ----- without bubblewrap -----

def test_without_bwrap_the_status_says_rlimits_only(no_sandbox):
    assert sandbox.bwrap() is None
    assert sandbox.status() == "rlimits-only"
    assert sandbox.runner_identity() is None
    assert sandbox.sandboxed(["python"], staging=Path("/a"), scratch=Path("/b"), read_only=(), env={}) == ["python"]
    assert "bubblewrap" in sandbox.WARNING and "WITHOUT a sandbox" in sandbox.WARNING


def test_without_bwrap_the_runner_still_has_its_limits(no_sandbox, runner):
    proxy = runner({"cpu_seconds": 55, "processes": 44, "open_files": 66, "file_size": 3 << 20})
    info = json.loads(call(proxy, "identity"))
    assert not proxy.sandboxed and proxy.uids == []
    assert info["limits"]["RLIMIT_CPU"] == [55, 57] and info["limits"]["RLIMIT_NPROC"] == [44, 44]
    assert info["limits"]["RLIMIT_NOFILE"] == [66, 66] and info["limits"]["RLIMIT_FSIZE"] == [3 << 20, 3 << 20]
    assert info["uid"][0] == os.getuid()  # the judge's user: for root, RLIMIT_NPROC is not enforced
    assert call(proxy, "write_file", "big.bin", 5) == [3 << 20, 27]
    assert sandbox.bwrap() is None
