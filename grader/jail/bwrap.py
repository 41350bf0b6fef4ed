"""The strongest tier: the runner inside bubblewrap, with no network and only the submission and the engine.

``wrap(command, ...)`` wraps the worker's command line in ``bwrap`` (when :func:`available` says it can start
a sandbox like the runner's here: unprivileged user namespaces, or root with them), so that inside:

- the file system is the OS's ``/usr`` (read-only), the Python installation without its
  ``site-packages``, NumPy, the staging directory (submission + minigrad copy, read-only), a private
  ``/tmp`` and the runner's working directory — both small tmpfs (:data:`TMPFS_BYTES`), gone with the
  sandbox, so nothing the submission writes reaches the host's disk;
- the judge, the kit, ``solutions`` and the suites do not exist; ``/proc`` shows only the sandbox;
- there is no network, and a new PID namespace: when the runner is killed, everything it started dies;
- when the judge runs as root, the runner does not: bwrap keeps only CAP_SETUID/CAP_SETGID, the worker
  switches to a uid of its own (:mod:`grader.jail.identity`) before any submission code runs, and then
  has no capabilities at all. RLIMIT_NPROC is not enforced for uid 0, so this is what limits processes;
- as an unprivileged judge, bwrap's user namespace makes RLIMIT_NPROC count the sandbox's processes
  only, and ``--disable-userns`` forbids nested user namespaces.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from grader.jail.identity import RUNNER_UID_BASE, is_root

SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin", "/etc/alternatives", "/etc/ld.so.cache")
TMPFS_BYTES = 64 * 1024 * 1024  # each of the sandbox's /tmp and working directory
# what this bwrap supports: --disable-userns came with 0.8, --size with 0.7 (older ones still sandbox)
_features = {"disable_userns": True, "size": True}


@functools.lru_cache(maxsize=1)
def available() -> str | None:
    """The bwrap binary if it exists and can start a sandbox like the runner's here, else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    for disable_userns, size in ((True, True), (False, True), (True, False), (False, False)):
        _features.update(disable_userns=disable_userns, size=size)
        probe = [path, *_Mounts(private_tmp=True).args, *_namespaces(drop_to_user=is_root()), "--", "/bin/true"]
        try:
            if subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0:
                return path
        except (OSError, subprocess.TimeoutExpired):
            return None
    return None


def why_unavailable() -> str:
    """One phrase: why bubblewrap cannot sandbox here (for the line the grader prints)."""
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap is not installed"
    try:
        result = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--", "/bin/true"],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap cannot start ({err})"
    lines = [line.removeprefix("bwrap: ") for line in result.stderr.strip().splitlines()]
    first = (lines or [f"exit status {result.returncode}"])[0].split(", likely")[0].split(". ")[0]
    return f"bubblewrap cannot start a sandbox here ({first[:120]})"


def _tmpfs(dest: str) -> list[str]:
    """A private tmpfs at ``dest`` that anyone may write to, of :data:`TMPFS_BYTES` where bwrap can say so."""
    return [*(["--size", str(TMPFS_BYTES)] if _features["size"] else []), "--perms", "1777", "--tmpfs", dest]


@functools.lru_cache(maxsize=1)
def can_switch_uid() -> bool:
    """Whether a sandboxed Python can give up root here as the worker does (else runners stay root inside)."""
    if available() is None:
        return False
    uid = RUNNER_UID_BASE
    code = (f"import os; os.setgroups([]); os.setresgid({uid}, {uid}, {uid}); os.setresuid({uid}, {uid}, {uid}); "
            f"import encodings.idna")  # and still read the standard library through the directories made for it
    mounts = _Mounts(private_tmp=False)
    _python_binds(mounts)
    probe = [available(), *mounts.args, *_namespaces(drop_to_user=True), "--",
             *base_interpreter([sys.executable, "-I", "-S", "-c", code])]
    try:
        return subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _namespaces(drop_to_user: bool) -> list[str]:
    if drop_to_user:
        # as root, a user namespace would map the sandbox to uid 0 outside, where RLIMIT_NPROC is not
        # enforced: no user namespace, and only the two capabilities the worker needs to give up root
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
                "--cap-add", "CAP_SETGID"]
    if is_root():
        return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    return ["--unshare-all", "--unshare-user", *(["--disable-userns"] if _features["disable_userns"] else []),
            "--die-with-parent", "--new-session"]


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


class _Mounts:
    """bwrap's mount arguments, with every directory it has to create on the way made world-traversable.

    bwrap creates missing parents with mode 0700, owned by root: a runner that is not root could not reach
    the Python installation (``/root/.pyenv/...``) or its own staging directory through them.
    """

    def __init__(self, private_tmp: bool) -> None:
        # every sandbox's first mounts: the system, /proc, /dev and maybe a private /tmp (mounts apply in order,
        # so the binds added later, often under /tmp, land on top of it)
        self.args = [*_system_binds(), "--proc", "/proc", "--dev", "/dev", *(_tmpfs("/tmp") if private_tmp else [])]
        self.made = {"/", *SYSTEM_DIRS, "/proc", "/dev", *(["/tmp"] if private_tmp else [])}

    def parents(self, path: str) -> None:
        parts = Path(path).parts
        for i in range(2, len(parts)):
            parent = str(Path(*parts[:i]))
            if parent not in self.made:
                self.made.add(parent)
                self.args += ["--perms", "0755", "--dir", parent]

    def add(self, option: str, source: str | None, dest: str) -> None:
        self.parents(dest)
        self.args += [option, dest] if source is None else [option, source, dest]
        self.made.add(dest)


def _python_binds(mounts: _Mounts) -> None:
    """The base interpreter and its standard library, with every site-packages hidden behind an empty tmpfs.

    A virtual environment is not mounted: it usually lives inside the kit's checkout, and the runner
    needs nothing from it (NumPy is mounted on its own). The runner starts the base interpreter.
    """
    root = os.path.realpath(sys.base_prefix)
    if not root.startswith("/usr/"):
        mounts.add("--ro-bind", root, root)
    hidden: list[str] = []
    candidates = [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    candidates += [sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})[k]
                   for k in ("purelib", "platlib")]
    candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    for site in candidates:
        real = os.path.realpath(site)
        if os.path.isdir(real) and real not in hidden:
            hidden.append(real)
            mounts.add("--tmpfs", None, real)


def wrap(command: list[str], *, staging: Path, scratch: Path, read_only: Iterable[Path],
         env: dict[str, str], run_as: tuple[int, int] | None = None) -> list[str]:
    """``command`` wrapped in bwrap; :func:`available` must have found it.

    ``scratch`` becomes a fresh tmpfs inside (the runner's working directory); ``run_as`` is the identity
    the worker will switch to (it keeps CAP_SETUID/CAP_SETGID until then).
    """
    path = available()
    if path is None:
        raise RuntimeError("bubblewrap is not available here")
    mounts = _Mounts(private_tmp=True)
    _python_binds(mounts)
    for extra in read_only:
        real = os.path.realpath(extra)
        mounts.add("--ro-bind", real, real)
    mounts.add("--ro-bind", str(staging), str(staging))
    mounts.parents(str(scratch))
    mounts.args += _tmpfs(str(scratch))
    args = [path, *mounts.args, *_namespaces(drop_to_user=run_as is not None), "--chdir", str(scratch),
            "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return [*args, "--", *base_interpreter(command)]


def base_interpreter(command: list[str]) -> list[str]:
    """``command`` with a virtual environment's ``python`` replaced by the interpreter it points to."""
    if not command or os.path.realpath(command[0]) != os.path.realpath(sys.executable):
        return command
    base = getattr(sys, "_base_executable", sys.executable)
    real = os.path.realpath(base)
    inside = real.startswith(os.path.realpath(sys.base_prefix) + os.sep) or real.startswith("/usr/")
    return [real if inside else command[0], *command[1:]]
