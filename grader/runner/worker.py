"""The runner: imports a submission and answers the judge's calls, one frame at a time.

Run as ``python -I -S _grader_worker.py CONFIG_JSON`` inside a staging directory that holds
``exercises/`` (the submission), ``minigrad/`` and, for the residual block, ``judge_kernels/`` (kernels
the judge computes: :mod:`grader.runner.remote_kernels`). Before any submission code runs it gives up
root if told to (``run_as``), loads the network filter if given one (``seccomp``), sets its resource limits,
keeps the judge's channel on private file descriptors, and sends student prints to the output log the
judge opened for it (its stderr; ``runner-output.log`` in the working directory if there is none).

Nothing here decides a score: every value sent back is checked again by the judge. What the runner
says about the objects it keeps (``flags``) and about what the submission did (``notes``: read the call
stack, patched NumPy, opened files outside its directories ...) is only used to label results.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import stat
import sys
import traceback
from typing import Any

STAGING = os.path.dirname(os.path.abspath(__file__))
try:  # imported inside the kit (tests): the package's copy; in a runner, main() imports the staged one
    from grader.runner import audit
except ImportError:
    audit = None
OUTPUT_LOG = "runner-output.log"
LIMIT_NAMES = {"address_space": "RLIMIT_AS", "cpu_seconds": "RLIMIT_CPU", "file_size": "RLIMIT_FSIZE",
               "processes": "RLIMIT_NPROC", "open_files": "RLIMIT_NOFILE"}
CPU_GRACE = 2  # seconds between SIGXCPU (soft CPU limit) and SIGKILL (hard)


def _apply_limits(limits: dict[str, int]) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: nothing to set
        return
    for key, value in limits.items():
        name = LIMIT_NAMES.get(key)
        if name and hasattr(resource, name) and value:
            limit = getattr(resource, name)
            hard = resource.getrlimit(limit)[1]
            soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
            new_hard = soft + CPU_GRACE if key == "cpu_seconds" else soft
            if hard != resource.RLIM_INFINITY:
                new_hard = min(new_hard, hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, (soft, new_hard))


def _drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` with no supplementary groups and no capabilities; exit if that fails."""
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as err:
        sys.stderr.write(f"runner: cannot switch to uid {uid}: {err}\n")
        os._exit(70)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        os._exit(70)
    with contextlib.suppress(Exception):  # inheritable capabilities too (permitted/effective went with root)
        import ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        data = (ctypes.c_uint32 * 6)()
        ctypes.CDLL(None, use_errno=True).capset(ctypes.byref(Header(0x20080522, 0)), data)


# ----- handles: objects that stay in the runner -----

ARRAY_HOOKS = ("__array__", "__array_interface__", "__array_struct__", "__array_ufunc__", "__array_function__",
               "__array_priority__")
LYING = ("__eq__", "__ne__", "__float__", "__int__", "__index__", "__bool__", "__getattribute__", "__class__")


def _trusted_module(module: Any) -> bool:
    """Built-in types (no ``__module__`` of their own), NumPy, minigrad and the standard containers."""
    return module is None or (isinstance(module, str) and (module == "builtins" or module.split(".")[0] in
                              ("numpy", "minigrad", "collections", "enum", "typing", "dataclasses")))


def _overrides(cls: type) -> list[str]:
    """The comparison and array hooks a class defined outside the standard library, NumPy and minigrad."""
    found: list[str] = []
    for klass in type.__dict__["__mro__"].__get__(cls):
        namespace = type.__dict__["__dict__"].__get__(klass)
        if _trusted_module(namespace.get("__module__")):
            continue
        for name in (*ARRAY_HOOKS, *LYING):
            value = namespace.get(name)
            if value is None or name in found:
                continue
            code = getattr(value, "__code__", None)
            if name in ("__eq__", "__ne__") and code is not None and code.co_filename == "<string>" and \
                    "__dataclass_fields__" in namespace:
                continue  # a dataclass's generated comparison
            found.append(name)
    return found


def describe(value: Any) -> dict[str, Any]:
    """What the judge may know about a runner-side object: its type name and labelling flags."""
    import numpy as np

    cls = type(value)
    info: dict[str, Any] = {"type": str(type.__dict__["__name__"].__get__(cls))[:100]}
    flags: list[str] = []
    overrides: list[str] = []
    try:
        if issubclass(cls, np.ndarray):
            if cls is not np.ndarray:  # NumPy's own (matrix, MaskedArray ...) are a mistake, not a disguise
                flags.append("numpy_subclass" if _trusted_module(audit._class_module(cls)) else "ndarray_subclass")
            elif value.dtype.hasobject:
                flags.append("object_array")
                seen: set[type] = set()
                for item in value.flat[:1000]:
                    if type(item) not in seen:
                        seen.add(type(item))
                        overrides += [n for n in _overrides(type(item)) if n not in overrides]
        elif issubclass(cls, np.generic) and not _trusted_module(audit._class_module(cls)):
            flags.append("numpy_scalar_subclass")
        overrides += [n for n in _overrides(cls) if n not in overrides]
    except Exception:
        flags.append("undescribable")
    if overrides:
        flags.append("overrides")
        info["overrides"] = overrides[:10]
    if flags:
        info["flags"] = flags
    return info


class Worker:
    def __init__(self, channel_in: Any, channel_out: Any, integrity: Any = None) -> None:
        import _grader_wire as wire  # the staging copy of grader/runner/wire.py

        self.wire = wire
        self.channel_in, self.channel_out = channel_in, channel_out
        self.handles: dict[int, Any] = {}
        self.next_handle = 1
        self.integrity = integrity

    def _store(self, value: Any) -> dict[str, Any]:
        n = self.next_handle
        self.next_handle += 1
        self.handles[n] = value
        return {"__handle__": n, **describe(value)}

    def _resolve(self, ref: dict[str, Any]) -> Any:
        n = ref["__handle__"]
        if n not in self.handles:
            raise KeyError(f"unknown handle {n}")
        return self.handles[n]

    def _notes(self, header: dict[str, Any]) -> dict[str, Any]:
        if self.integrity is not None:
            with contextlib.suppress(Exception):
                self.integrity.check()
        if audit.NOTES:
            header["notes"] = list(audit.NOTES)
        return header

    def reply(self, header: dict[str, Any], result: Any = None, max_depth: int | None = None) -> None:
        packer = self.wire.Packer(on_object=self._store, max_depth=max_depth)
        if "result" in header:
            header["result"] = packer.pack(result)
        self.wire.write_frame(self.channel_out, self._notes(header), packer.arrays)

    def handle(self, request: dict[str, Any], arrays: dict[str, Any]) -> None:
        op = request.get("op")
        if op == "import":
            module = importlib.import_module(f"exercises.{request['module']}")
            names = sorted(n for n in vars(module) if not n.startswith("_"))
            self.reply({"ok": True, "result": None}, names)
        elif op in ("call", "harness"):
            module = importlib.import_module(f"exercises.{request['module']}" if op == "call" else "_grader_harness")
            fn = getattr(module, request["function"])
            args = self.wire.unpack(request.get("args", []), arrays, self._resolve)
            kwargs = self.wire.unpack({"__dict__": request.get("kwargs", {})}, arrays, self._resolve)
            result = fn(*args, **kwargs)
            # a call's (out, cache) is opened one level: its arrays travel, a cache stays here as a handle;
            # a harness returns plain nested data by design
            depth = None if op == "harness" else 1
            if request.get("return_args"):  # lets the judge see whether the call changed its inputs
                result, depth = {"result": result, "args": list(args)}, 2
            self.reply({"ok": True, "result": None}, result, depth)
        else:
            raise ValueError(f"unknown request {op!r}")

    def serve(self) -> None:
        while True:
            try:
                request, arrays = self.wire.read_frame(self.channel_in)
            except EOFError:
                return
            if request.get("op") == "bye":
                self.reply({"ok": True})
                return
            try:
                self.handle(request, arrays)
            except BaseException as err:  # SystemExit and KeyboardInterrupt are student errors too
                self._reply_error(err)

    def _reply_error(self, err: BaseException) -> None:
        name = _safe_name(err)
        try:
            tb = "".join(traceback.format_exception(type(err), err, err.__traceback__))[-4000:]
            self.reply({"ok": False, "error": {"type": name, "message": _safe_str(err), "traceback": tb}})
        except BaseException:  # out of memory while formatting, a broken __str__ ...: the bare type name
            del err
            self.wire.write_frame(self.channel_out, {"ok": False, "error": {"type": name, "message": "",
                                                                            "traceback": ""}})


def _safe_name(err: BaseException) -> str:
    try:
        return str(type.__dict__["__name__"].__get__(type(err)))[:100]
    except BaseException:
        return "Exception"


def _safe_str(err: BaseException) -> str:
    try:
        return str(err)[:2000]
    except BaseException:  # a student's exception may break __str__
        return "<unprintable error>"


def main() -> None:
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    config = config if isinstance(config, dict) else {}
    # the judge's channel moves to private descriptors; fd 0 becomes /dev/null, fds 1-2 the output log
    channel_in = os.fdopen(os.dup(0), "rb", buffering=0)
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    try:
        log_given = stat.S_ISREG(os.fstat(2).st_mode)
    except OSError:
        log_given = False
    if not log_given:
        os.dup2(os.open(OUTPUT_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600), 2)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr = os.fdopen(1, "w", buffering=1)
    # a write past the file-size limit fails with EFBIG instead of killing the runner
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    scratch = os.getcwd()
    sys.path[:] = [STAGING] + [p for p in sys.path if p and os.path.isdir(p) and "site-packages" not in p
                               and "dist-packages" not in p]
    sys.path += [p for p in os.environ.get("GRADER_RUNTIME_PATH", "").split(os.pathsep) if p]
    global audit
    import _grader_audit as audit  # the staging copy of grader/runner/audit.py
    _first_to_go_when_memory_runs_out()
    run_as = config.get("run_as")
    if run_as:
        _drop_privileges(int(run_as[0]), int(run_as[1]))
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS: set-user-ID programs and file capabilities give the runner nothing
    if config.get("seccomp"):
        _deny_network(bytes.fromhex(config["seccomp"]))
    _apply_limits(config.get("limits", config))
    _prctl(1, int(getattr(signal, "SIGKILL", 9)))  # PR_SET_PDEATHSIG: die with the judge, even in student code
    worker = Worker(channel_in, channel_out)  # imports NumPy
    kernels = config.get("kernels")
    if kernels:  # the judge's kernel process, for exercises graded on the reference kernels
        import _grader_kernels  # the staging copy of grader/runner/remote_kernels.py

        _grader_kernels.connect(worker.wire, os.fdopen(int(kernels[0]), "rb", buffering=0),
                                os.fdopen(int(kernels[1]), "wb"))
    audit.install(STAGING, scratch)
    worker.integrity = audit.Integrity()
    worker.serve()


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(OSError, AttributeError, TypeError):  # macOS: no prctl; Windows: CDLL(None) fails
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _deny_network(program: bytes) -> None:
    """Load the judge's seccomp filter (classic BPF, see grader/jail/seccomp.py); exit if it does not load.

    After PR_SET_NO_NEW_PRIVS, so an unprivileged runner may load it; it holds for every thread and process
    the runner starts from here on.
    """
    try:
        import ctypes

        class Program(ctypes.Structure):  # struct sock_fprog
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        loaded = ctypes.CDLL(None, use_errno=True).prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0  # PR_SET_SECCOMP
    except (OSError, AttributeError, ValueError):
        loaded = False
    if not loaded:
        sys.stderr.write("runner: cannot load the network filter\n")
        os._exit(70)


def _first_to_go_when_memory_runs_out() -> None:
    """RLIMIT_AS bounds one process, not all it may start: if they exhaust the host's memory, the kernel's
    out-of-memory killer picks the runner and its children (oom_score_adj is inherited), not the judge."""
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


if __name__ == "__main__":
    main()
