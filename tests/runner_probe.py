"""A probe submission that reports what its runner can see and do, and helpers to start runners on it.

``relu.py`` of the probe submission holds the functions below; a test starts a runner in a given sandbox
tier (``start_runner``) and calls them through the judge's proxy (``call``).
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

from grader.jail import identity, sandbox
from grader.jail.proxy import DEFAULT_LIMITS, RunnerProxy
from grader.jail.staging import build_stage, runtime_mounts, runtime_path

PROBE = '''
import json, os, resource, signal, socket, sys, time


def identity():
    wanted = ("Cap", "NoNewPrivs", "Seccomp")
    status = [l for l in open("/proc/self/status").read().splitlines() if l.startswith(wanted)]
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
    """[exists, readable, writable] of each path, as this process finds them by trying."""
    found = {}
    for path in paths:
        readable = writable = False
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
            readable = True
        except OSError:
            pass
        try:
            if os.path.isdir(path):
                probe = os.path.join(path, ".write-probe-%d" % os.getpid())
                open(probe, "w").close()
                os.unlink(probe)
            else:
                open(path, "ab").close()
            writable = True
        except OSError:
            pass
        found[path] = [os.path.exists(path), readable, writable]
    return json.dumps(found)


def fill_tmp(megabytes, prefix="/tmp/fill-"):
    written = 0
    for i in range(megabytes // 8):
        try:
            with open(f"{prefix}{i}", "wb") as f:
                f.write(b"z" * (8 << 20))
            written += 8
        except OSError as err:
            return [written, err.errno]
    return [written, 0]
'''


def tiers_here() -> dict[str, str]:
    """Tier -> "" when runners can run in it here, else why not (for pytest's skip reasons)."""
    found = {}
    for choice, tier in (("bwrap", "bwrap"), ("uid", "uid"), ("rlimits-only", "rlimits-only")):
        try:
            decided = sandbox.decide(choice).tier
            found[decided if choice == "uid" else tier] = ""
        except sandbox.SandboxUnavailable as err:
            found[tier] = str(err)
    return found


def judge_folder(tier: str, parent: Path | None = None) -> Path:
    """A folder for a judge's stages and scratch directories, made as a judge makes it (mode 0700) and, for
    runners under uids of their own, opened to them (0711) under a parent they can traverse."""
    parent = parent or Path(tempfile.mkdtemp(prefix="runner-probe-"))
    if tier in ("uid+seccomp", "uid"):
        identity.open_to_runners(parent)
    folder = parent / f"judge-{len(list(parent.iterdir()))}"
    folder.mkdir(mode=0o700)
    if tier in ("uid+seccomp", "uid"):
        identity.open_to_runners(folder)
    return folder


class Runners:
    """Starts runners on the probe submission in one tier, and closes them all at the end."""

    def __init__(self, submission_root: Path, tier: str) -> None:
        self.tier = tier
        self.submission = submission_root / "submission"
        self.submission.mkdir(exist_ok=True)
        (self.submission / "relu.py").write_text(textwrap.dedent(PROBE))
        # runners under uids of their own must traverse to their folders: a fresh one under the system's /tmp
        self.root = Path(tempfile.mkdtemp(prefix="runner-probe-"))
        self.proxies: list[RunnerProxy] = []

    def start(self, limits: dict[str, int] | None = None) -> RunnerProxy:
        root = judge_folder(self.tier, self.root)
        stage = build_stage(root, self.submission, "relu")
        env = {"GRADER_RUNTIME_PATH": runtime_path(root)}
        proxy = RunnerProxy(stage, root / "scratch-relu", {**DEFAULT_LIMITS, **(limits or {})}, env,
                            read_only=runtime_mounts(root), tier=self.tier)
        proxy.start()
        self.proxies.append(proxy)
        return proxy

    def close(self) -> None:
        import shutil

        for proxy in self.proxies:
            proxy.close()
        shutil.rmtree(self.root, ignore_errors=True)


def call(proxy: RunnerProxy, function: str, *args, timeout: float = 20.0):
    return proxy.call("relu", function, args, {}, timeout)


def processes_of(uids: set[int], marker: str) -> list[str]:
    """Processes (not this one) running as one of ``uids`` or whose command line mentions ``marker``."""
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


__all__ = ["DEFAULT_LIMITS", "PROBE", "Runners", "call", "judge_folder", "processes_of", "tiers_here"]
