"""What a submission did, for labelling results: audit hooks and a watch on patched modules.

Copied into the runner's staging directory as ``_grader_audit.py`` and imported by the worker before
any submission code runs. Its notes ("inspected the call stack", "patched numpy.allclose", "tried to
write outside its directory" ...) only label results as tampered; they never give or take credit.
"""

from __future__ import annotations

import os
import sys
from typing import Any

STAGING = os.path.dirname(os.path.abspath(__file__))

NOTES: list[str] = []
MAX_NOTES = 20
WATCHED_IMPORTS = ("solutions", "grader")  # the judge's packages: never there, never needed
WATCHED_NAMES = ("solutions", "suites", "grader", "hidden", "gradebook", "conftest.py")
RESULT_FILES = ("results.json", "gradebook.sqlite", "grades.csv", "results.xml")
STACK_EVENTS = {"sys._getframe": "inspected the call stack (sys._getframe)",
                "sys._current_frames": "inspected the call stacks (sys._current_frames)",
                "gc.get_objects": "searched every live object (gc.get_objects)",
                "gc.get_referrers": "searched live objects (gc.get_referrers)",
                "gc.get_referents": "searched live objects (gc.get_referents)"}
_in_hook = False
_trusted_files: tuple[str, ...] = ()
_readable: tuple[str, ...] = ()
_writable: tuple[str, ...] = ()


def note(text: str) -> None:
    if text not in NOTES and len(NOTES) < MAX_NOTES:
        NOTES.append(text[:200])


def _student_frame(frame: Any) -> bool:
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and (name == "exercises" or name.startswith("exercises."))


def _blamed(frame: Any, depth: int = 12) -> bool:
    """Whether the first frame above ``frame`` that is not the standard library's or NumPy's is student code."""
    while frame is not None and depth:
        if _student_frame(frame):
            return True
        filename = frame.f_code.co_filename
        if not (filename.startswith("<frozen") or filename.startswith(_trusted_files)):
            return False
        frame, depth = frame.f_back, depth - 1
    return False


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    global _in_hook
    if _in_hook or (event not in STACK_EVENTS and event not in ("open", "import", "socket.__new__", "socket.connect",
                                                                 "socket.bind", "sqlite3.connect")):
        return
    _in_hook = True
    try:
        caller = sys._getframe(1)
        if event in STACK_EVENTS:
            if _student_frame(caller) or (caller.f_globals.get("__name__") == "inspect" and caller.f_back is not None
                                          and _student_frame(caller.f_back)):
                note(STACK_EVENTS[event])
        elif event == "import":
            top = str(args[0]).split(".")[0]
            if top in WATCHED_IMPORTS and _blamed(caller):
                note(f"tried to import {top}")
        elif event in ("socket.connect", "socket.bind"):
            address = args[1] if len(args) > 1 else ""
            note(f"tried to use the network ({event.split('.')[1]} {str(address)[:80]})")
        elif event == "socket.__new__":
            if len(args) > 1 and args[1] != 1 and _blamed(caller):  # AF_UNIX (1) is local; -1 is AF_INET
                note(f"tried to use the network (a socket of family {args[1]})")
        elif event == "sqlite3.connect":
            note(f"opened a database ({str(args[0])[:120]})")
        else:
            _audit_open(args, caller)
    except BaseException:  # an audit hook that raises would abort the student's call: never
        pass
    finally:
        _in_hook = False


def _audit_open(args: tuple[Any, ...], caller: Any) -> None:
    path, mode, flags = (*tuple(args), None, None, None)[:3]
    if isinstance(path, bytes):
        path = path.decode("utf-8", "replace")
    if not isinstance(path, str):
        return  # a descriptor
    full = os.path.normpath(os.path.join(os.getcwd(), path))
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
    if os.path.basename(full) in RESULT_FILES and _blamed(caller):
        note(f"wrote a results file ({path[:120]})" if writing else f"looked for a results file ({path[:120]})")
    elif writing and not _under(full, _writable) and _blamed(caller):
        note(f"tried to write outside its directory ({path[:120]})")
    elif not writing and not _under(full, _readable) and _looks_like_the_judges(full) and _blamed(caller):
        note(f"looked for the grader's files ({path[:120]})")


def _looks_like_the_judges(path: str) -> bool:
    """A path naming the judge's packages or results, or another process's /proc entry."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and parts[2] != str(os.getpid()):
        return True
    return any(part in WATCHED_NAMES or (part.startswith("test_") and part.endswith(".py")) for part in parts)


def install(staging: str, scratch: str) -> None:
    global _trusted_files, _readable, _writable
    import numpy

    numpy_dir = os.path.dirname(os.path.realpath(numpy.__file__))
    stdlib = sorted({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    _trusted_files = (*stdlib, numpy_dir, os.path.join(staging, "minigrad"), os.path.realpath(
        os.path.join(staging, "minigrad")), os.path.join(staging, "judge_kernels"),
        os.path.join(STAGING, "_grader_"))
    runtime = os.environ.get("GRADER_RUNTIME_PATH", "").split(os.pathsep)
    _readable = tuple(p for p in (*stdlib, numpy_dir, os.path.dirname(numpy_dir), staging, *runtime, scratch,
                                  "/tmp", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
                                  "/proc/self", f"/proc/{os.getpid()}", "/usr/lib", "/usr/share/zoneinfo",
                                  "/etc/localtime") if p)
    _writable = (scratch, "/tmp", "/dev/null")
    sys.addaudithook(_audit)


class Integrity:
    """Notices when the submission replaces what the runner or a comparison could rely on."""

    MODULES = ("builtins", "numpy", "numpy.testing", "numpy.testing._private.utils", "numpy.linalg", "math",
               "operator", "json", "struct", "io", "_grader_wire", "_grader_harness", "_grader_audit", "__main__")

    def __init__(self) -> None:
        # what the runner's own modules hold at start: functions, classes and modules, by identity
        self.snapshot = {(m, k): v for m in ("builtins", "numpy", "json", "struct", "io", "_grader_wire",
                                             "_grader_audit", "__main__") if m in sys.modules
                         for k, v in list(vars(sys.modules[m]).items())
                         if callable(v) or type(v) is type(sys)}
        # and the attributes of the runner's own classes (Worker, Packer ...)
        self.classes = {(cls, k): v for (m, _), cls in self.snapshot.items()
                        if m in ("_grader_wire", "_grader_audit", "__main__") and isinstance(cls, type)
                        and _class_module(cls) in ("_grader_wire", "_grader_audit", "__main__")
                        for k, v in list(vars(cls).items())}

    @staticmethod
    def _foreign(value: Any) -> bool:
        """Whether ``value`` was made by the submission (looks only at types, never calls the value)."""
        cls = type(value)
        if cls is type(_foreign_probe):
            module = value.__module__
        else:
            module = _class_module(value if issubclass(cls, type) else cls)
        return isinstance(module, str) and (module == "exercises" or module.startswith("exercises."))

    def check(self) -> None:
        if len(NOTES) >= MAX_NOTES:
            return
        names = [m for m in self.MODULES if m in sys.modules]
        names += sorted(m for m in list(sys.modules) if m.split(".")[0] in ("minigrad", *WATCHED_IMPORTS))
        for module_name in names:
            try:
                namespace = vars(sys.modules[module_name])
            except TypeError:
                note(f"replaced the module {module_name}")
                continue
            for key, value in list(namespace.items()):
                if key.startswith("__") and key.endswith("__") and key != "__import__":
                    continue
                snap = self.snapshot.get((module_name, key))
                try:
                    foreign = self._foreign(value)
                except Exception:
                    foreign = True
                if foreign or (snap is not None and snap is not value):
                    note(f"patched {module_name}.{key}")
        for (cls, key), value in self.classes.items():
            if vars(cls).get(key) is not value:
                note(f"patched the runner's {cls.__name__}.{key}")
        for (module_name, key) in self.snapshot:
            module = sys.modules.get(module_name)
            if module is not None and key not in vars(module) and not key.startswith("__"):
                note(f"deleted {module_name}.{key}")


def _foreign_probe() -> None:
    """A plain function, to name the function type without importing ``types``."""


def _class_module(cls: type) -> Any:
    """The ``__module__`` a class statement recorded (None for built-in types), read without lookups."""
    return type.__dict__["__dict__"].__get__(cls).get("__module__")
