"""A Python interpreter that lacks what macOS and Windows lack, for testing the student commands there.

CI has no Windows and no Mac. This builds, in a temporary folder, an installation of the interpreter
running the tests whose standard library has no ``fcntl`` or ``resource`` (Windows), whose ``ctypes``
finds no ``prctl`` in libc (macOS, Windows), and whose ``os`` and ``signal`` lack what Windows' lack
(``killpg``, ``wait4``, ``pread``, ``O_NOFOLLOW``, ``SIGXFSZ``, ``SIGXCPU``; ``os.symlink`` refused, as
without the privilege): the binary is copied, every file of the standard library linked, except
``lib-dynload/fcntl*`` and ``resource*`` (left out) and ``ctypes/__init__.py`` and ``signal.py``
(copies with a patch at their end; ``os`` itself is frozen into the interpreter, so the patch to it
rides on ``signal``, which every process of the grader imports before it starts anything).
Python finds its standard library next to its binary, so every process started with this
interpreter's ``sys.executable`` — the judge, and the runner under ``python -I -S`` that no
``sitecustomize`` or ``PYTHONPATH`` reaches — runs without them too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

#: appended to the copy of ctypes/__init__.py: libc answers "prctl" as macOS' does (no such symbol)
NO_PRCTL = '''

# --- tests/posix_less_python.py: a libc without prctl, as on macOS and Windows ---
def _without(names, lookup=CDLL.__getattr__):
    def __getattr__(self, name):
        if name in names:
            raise AttributeError(f"{name}: symbol not found (blocked by the kit's portability test)")
        return lookup(self, name)
    return __getattr__


CDLL.__getattr__ = _without({"prctl"})
'''


#: appended to a copy of signal.py (os is frozen into the interpreter, signal is not, and every process of
#: the grader imports signal before it starts anything): what Windows' os and signal modules do not have
NO_WINDOWS_OS = '''

# --- tests/posix_less_python.py: what Windows' os and signal modules lack ---
import os as _os

for _name in ("killpg", "wait4", "pread", "O_NOFOLLOW"):
    if hasattr(_os, _name):
        delattr(_os, _name)
for _name in ("SIGXFSZ", "SIGXCPU"):
    globals().pop(_name, None)


def _no_symlink(*args, **kwargs):
    raise OSError(1, "making a symbolic link needs a privilege here (blocked by the kit's portability test)")


_os.symlink = _no_symlink
'''


def _link_all(source: Path, target: Path, skip: set[str] = frozenset()) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name not in skip and not (target / entry.name).exists():
            (target / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())


def build(root: Path, blocked: tuple[str, ...] = ("fcntl", "resource"), windows_os: bool = True) -> Path:
    """The path of an interpreter without the ``blocked`` extension modules and without libc's prctl; with
    ``windows_os`` also without what Windows' ``os`` and ``signal`` lack (``killpg``, ``wait4``, ``pread``,
    ``O_NOFOLLOW``, ``SIGXFSZ``, ``SIGXCPU``) and with ``os.symlink`` refused, as it is without privilege."""
    real = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    stdlib, dynload = Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_config_var("DESTSHARED") or "")
    prefix = root / "python"
    lib = prefix / stdlib.relative_to(Path(sys.base_prefix))  # prefix/lib/python3.X, where Python looks
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / real.name
    shutil.copy2(real, python)  # a copy, not a link: Python resolves links to find its home
    _link_all(real.parent.parent / "lib", prefix / "lib", skip={stdlib.name})  # libpython, if shared
    patched = {"signal.py": NO_WINDOWS_OS} if windows_os else {}
    _link_all(stdlib, lib, skip={"ctypes", "lib-dynload", "site-packages", *patched})
    for name, tail in patched.items():
        (lib / name).write_text((stdlib / name).read_text() + tail)
    if not dynload.is_dir():
        dynload = stdlib / "lib-dynload"
    (lib / "lib-dynload").mkdir()
    for entry in dynload.iterdir():
        if entry.name.split(".")[0] not in blocked:
            (lib / "lib-dynload" / entry.name).symlink_to(entry)
    _link_all(stdlib / "ctypes", lib / "ctypes", skip={"__init__.py", "__pycache__"})
    (lib / "ctypes" / "__init__.py").write_text((stdlib / "ctypes" / "__init__.py").read_text() + NO_PRCTL)
    # the packages the tests run with (NumPy, pytest, tqdm, the kit's editable install), .pth files included
    site_dirs = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (lib / "site-packages").mkdir()
    (lib / "site-packages" / "borrowed.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in site_dirs))
    return python


def probe(python: Path) -> str:
    """"" when ``python`` runs and lacks fcntl and prctl, in normal and in isolated mode; else what is wrong."""
    code = ("import signal, ctypes, importlib.util as u, os\n"
            "assert u.find_spec('fcntl') is None, 'fcntl importable'\n"
            "assert u.find_spec('resource') is None, 'resource importable'\n"
            "assert not hasattr(ctypes.CDLL(None), 'prctl'), 'prctl found'\n"
            "assert not hasattr(os, 'killpg') and not hasattr(signal, 'SIGXFSZ'), 'POSIX os/signal left'\n")
    for flags in ([], ["-I", "-S"]):
        done = subprocess.run([str(python), *flags, "-c", code], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return f"{python} {' '.join(flags)}: {(done.stderr or done.stdout).strip()[-500:]}"
    return ""
