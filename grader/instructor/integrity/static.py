"""Static integrity flags: what a submission's source *could* do, read with ``ast`` and never run.

``flag_source(filename, source)`` returns a list of :class:`Flag`, one per kind and line. A flag is a
signal for a person to look at, not a verdict: the sandbox already makes these tricks useless.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: kind -> what it means, in one line (shown in the reports)
KINDS: dict[str, str] = {
    "unparsable": "the file is not valid UTF-8 Python, so nothing else could be checked",
    "introspection": "inspects frames or live objects (inspect, gc, sys._getframe, f_back): hunting for answers",
    "ctypes": "loads native code or pokes memory (ctypes, cffi)",
    "builtins_patch": "replaces Python builtins (builtins.*, __builtins__)",
    "module_patch": "replaces attributes of imported modules (np.allclose = ..., sys.modules): a way to fake checks",
    "process_exit": "ends or signals the process (sys.exit, os._exit, os.kill, signal, atexit)",
    "subprocess_or_fork": "starts processes or background threads (subprocess, os.fork, os.system, threading)",
    "network": "uses the network (socket, urllib, http, requests)",
    "filesystem_escape": "reaches outside the submission (absolute or .. paths, /proc, os.environ, sys.path, writes)",
    "dunder_override": "defines comparison or array-conversion hooks, or subclasses ndarray: objects that can lie",
    "forbidden_import": "imports a library or module the course does not allow (frameworks, reference code)",
    "dynamic_code": "runs code built at run time (exec, eval, compile, __import__, importlib)",
}

DEFAULT_FORBIDDEN: frozenset[str] = frozenset({
    "torch", "tensorflow", "keras", "jax", "scipy.signal", "scipy.ndimage", "skimage", "cv2",
    "solutions", "grader", "minigrad.kernels", "minigrad.use_kernels"})

_MODULES = {  # module (or a parent of it) -> kind, on import
    **dict.fromkeys(("inspect", "gc"), "introspection"),
    **dict.fromkeys(("ctypes", "_ctypes", "cffi"), "ctypes"),
    **dict.fromkeys(("signal", "atexit"), "process_exit"),
    **dict.fromkeys(("subprocess", "multiprocessing", "pty", "threading", "_thread"), "subprocess_or_fork"),
    **dict.fromkeys(("socket", "ssl", "urllib", "urllib3", "http", "requests", "httpx", "aiohttp", "ftplib",
                     "smtplib", "telnetlib", "xmlrpc", "websocket", "websockets"), "network"),
    **dict.fromkeys(("importlib", "runpy", "marshal", "code", "codeop"), "dynamic_code"),
}
_NAMES = {  # fully qualified name -> kind, wherever it is used
    **dict.fromkeys(("sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "traceback.walk_stack",
                     "traceback.extract_stack", "traceback.format_stack", "traceback.print_stack",
                     "traceback.walk_tb", "traceback.StackSummary"), "introspection"),
    **dict.fromkeys(("builtins.exec", "builtins.eval", "builtins.compile", "builtins.__import__", "types.CodeType",
                     "types.FunctionType"), "dynamic_code"),
    **dict.fromkeys(("os._exit", "sys.exit", "os.kill", "os.killpg", "os.abort", "builtins.exit"), "process_exit"),
    **dict.fromkeys(("os.fork", "os.forkpty", "os.system", "os.popen", "os.posix_spawn", "os.posix_spawnp",
                     "concurrent.futures.ProcessPoolExecutor"), "subprocess_or_fork"),
    **dict.fromkeys(("os.environ", "os.environb", "os.getenv", "os.putenv", "os.unsetenv", "os.getppid",
                     "os.path.expanduser", "pathlib.Path.home", "sys.path"), "filesystem_escape"),
    "sys.modules": "module_patch",
}
_BARE = {"exec": "dynamic_code", "eval": "dynamic_code", "compile": "dynamic_code", "__import__": "dynamic_code",
         "exit": "process_exit", "quit": "process_exit", "SystemExit": "process_exit",
         "__builtins__": "builtins_patch"}
_FRAME_ATTRS = {"f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame",
                "__globals__", "__subclasses__", "__code__", "__closure__"}
DUNDERS = frozenset({"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__", "__int__",
                     "__index__", "__complex__", "__array__", "__array_ufunc__", "__array_function__",
                     "__array_priority__", "__array_wrap__", "__array_finalize__", "__array_interface__",
                     "__array_struct__", "__instancecheck__", "__subclasscheck__"})
_ARRAY_BASES = {"numpy.ndarray", "numpy.matrix", "numpy.recarray", "numpy.ma.MaskedArray", "numpy.generic",
                "cupy.ndarray"}
_FILE_CALLS = {"open", "io.open", "os.open", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "os.listdir",
               "os.scandir", "os.walk", "os.stat", "os.chdir", "os.remove", "os.unlink", "os.rename", "os.replace",
               "os.mkdir", "os.makedirs", "os.rmdir", "os.path.join", "os.path.exists", "os.path.isfile",
               "os.path.isdir", "glob.glob", "glob.iglob", "numpy.load", "numpy.save", "numpy.savez",
               "numpy.loadtxt", "numpy.savetxt", "numpy.fromfile", "numpy.genfromtxt"}
_SPAWN = re.compile(r"^os\.(spawn|exec)[lv]p?e?$")
_OUTSIDE = re.compile(r"^(/(proc|sys|dev|etc|root|home)|~|\.\.)([/\\]|$)")  # suspicious wherever it is written
_ESCAPES = re.compile(r"^([/\\~]|[A-Za-z]:[/\\])|(^|[/\\])\.\.([/\\]|$)")  # suspicious as a file path


@dataclass(frozen=True)
class Flag:
    """One signal: ``kind`` (a key of KINDS) at ``file``:``line``, ``detail`` saying what was seen."""

    kind: str
    file: str
    line: int
    detail: str


def flag_source(filename: str, source: str | bytes, forbidden: Iterable[str] = DEFAULT_FORBIDDEN) -> list[Flag]:
    """The flags of one source file, sorted by line; never executes it, never raises on bad input."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            return [Flag("unparsable", filename, 1, f"not UTF-8 text (byte {err.start})")]
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as err:
        return [Flag("unparsable", filename, err.lineno or 1, f"syntax error: {err.msg}")]
    except UnicodeError:
        return [Flag("unparsable", filename, 1, "not UTF-8 text (undecodable bytes)")]
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:  # null bytes, absurd nesting
        return [Flag("unparsable", filename, 1, f"cannot parse: {type(err).__name__}: {err}"[:120])]
    return _Checker(filename, tree, frozenset(forbidden)).run()  # iterative: no recursion limit to hit


class _Checker:
    def __init__(self, filename: str, tree: ast.Module, forbidden: frozenset[str]) -> None:
        self.filename, self.tree, self.forbidden = filename, tree, forbidden
        self.found: dict[tuple[str, int], list[str]] = {}
        self.aliases: dict[str, str] = {}  # local name -> what it was imported as (e.g. np -> numpy)
        self.bound: set[str] = set()       # names the file defines (shadowing a builtin)
        self.skip: set[int] = set()        # ids of string constants that are docstrings or f-string middles

    def add(self, kind: str, node: ast.AST, detail: str) -> None:
        details = self.found.setdefault((kind, getattr(node, "lineno", 1)), [])
        if detail not in details:
            details.append(detail)

    def run(self) -> list[Flag]:
        nodes = _walk(self.tree)
        for node in nodes:
            if type(node) in _PREPARED:
                self._prepare(node)
        for node in nodes:
            if type(node) in _CHECKED:
                self._check(node)
        return [Flag(kind, self.filename, line, "; ".join(details[:4]) + (" ..." if len(details) > 4 else ""))
                for (kind, line), details in sorted(self.found.items(), key=lambda item: (item[0][1], item[0][0]))]

    def _prepare(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                self.aliases[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if node.module else base + alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bound.add(node.name)
        elif isinstance(node, ast.arg):
            self.bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            self.bound.add(node.id)
        elif isinstance(node, ast.JoinedStr):
            self.skip.update(id(part) for part in node.values[1:])
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                self.skip.add(id(first.value))

    def qualname(self, node: ast.AST) -> str | None:
        """``np.testing.assert_allclose`` -> "numpy.testing.assert_allclose" (None when not rooted in an import)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.aliases:
            root = self.aliases[node.id]
        elif node.id in _BARE or (node.id in {"open", "setattr", "delattr", "type"} and node.id not in self.bound):
            root = node.id
        else:
            return None
        return ".".join([root, *reversed(parts)])

    def _module(self, name: str, node: ast.AST, how: str) -> None:
        pieces = name.split(".")
        for i in range(1, len(pieces) + 1):
            prefix = ".".join(pieces[:i])
            if prefix in _MODULES:
                self.add(_MODULES[prefix], node, f"{how} {prefix}")
            if prefix in self.forbidden:
                self.add("forbidden_import", node, f"{how} {name}")
            if prefix in _NAMES:
                self.add(_NAMES[prefix], node, f"{how} {prefix}")

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._module(alias.name, node, "imports")
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            self._module(node.module, node, "imports")
            for alias in node.names:
                self._module(f"{node.module}.{alias.name}", node, "imports")
        elif isinstance(node, (ast.Attribute, ast.Name)):
            self._name_use(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            target = self.qualname(node.value)
            if target and target.endswith(".__dict__"):
                self._patch(node, target, f"assigns {target}[...]")
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.ClassDef):
            self._class(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in self.skip \
                and _OUTSIDE.match(node.value):
            self.add("filesystem_escape", node, f"path {_short(node.value)}")

    def _name_use(self, node: ast.Attribute | ast.Name) -> None:
        name = self.qualname(node)
        if isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRS:
            self.add("introspection", node, f"uses .{node.attr}")
        if isinstance(node, ast.Name) and node.id in _BARE and not (node.id in self.bound or node.id in self.aliases):
            self.add(_BARE[node.id], node, f"uses {node.id}")
        if name is None:
            return
        if name in _NAMES or _SPAWN.match(name):
            self.add(_NAMES.get(name, "subprocess_or_fork"), node, f"uses {name}")
        pieces = name.split(".")
        hit = next((p for i in range(1, len(pieces) + 1) if (p := ".".join(pieces[:i])) in self.forbidden), None)
        imported = self.aliases.get(_root(node), "")
        if hit and not (imported == hit or imported.startswith(hit + ".")):  # else its import was flagged already
            self.add("forbidden_import", node, f"uses {hit}")
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            self._patch(node, name, f"{'assigns' if isinstance(node.ctx, ast.Store) else 'deletes'} {name}")

    def _patch(self, at: ast.AST, target: str, detail: str) -> None:
        """A write into ``target`` (a qualified name): builtins_patch for builtins, module_patch for imports."""
        root = target.split(".")[0]
        if root in ("builtins", "__builtins__"):
            self.add("builtins_patch", at, detail)
        elif root not in _BARE and root not in ("open", "setattr", "delattr", "type"):
            self.add("module_patch", at, detail)

    def _call(self, node: ast.Call) -> None:
        func = self.qualname(node.func)
        args = node.args
        if func in ("setattr", "delattr") and args:
            target = self.qualname(args[0])
            if target:
                self._patch(node, target, f"{func}({target}, ...)")
        elif func == "type" and len(args) == 3 and isinstance(args[2], ast.Dict):
            keys = [k.value for k in args[2].keys if isinstance(k, ast.Constant) and k.value in DUNDERS]
            if keys:
                self.add("dunder_override", node, f"type(...) with {', '.join(keys)}")
        elif func in ("importlib.import_module", "__import__", "builtins.__import__") and args \
                and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            self._module(args[0].value, node, "imports")
        if func in _FILE_CALLS:
            for arg in args:
                text = _leading_text(arg)
                if text is not None and _ESCAPES.search(text):
                    self.add("filesystem_escape", node, f"{func}({_short(text)})")
                    self.skip.add(id(arg.values[0] if isinstance(arg, ast.JoinedStr) else arg))  # said once
            if func in ("open", "io.open"):
                mode = args[1] if len(args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
                if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
                    self.add("filesystem_escape", node, f"opens a file for writing ({mode.value!r})")

    def _class(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            name = self.qualname(base)
            if name in _ARRAY_BASES:
                self.add("dunder_override", node, f"class {node.name} subclasses {name}")
        for stmt in node.body:
            names: list[str] = []
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [stmt.name]
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                if name in DUNDERS:
                    self.add("dunder_override", stmt, f"class {node.name} defines {name}")


_PREPARED = {ast.Module, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.arg,
             ast.Name, ast.JoinedStr}
_CHECKED = {ast.Import, ast.ImportFrom, ast.Attribute, ast.Name, ast.Subscript, ast.Call, ast.ClassDef, ast.Constant}


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node, each before its children (like ast.walk, without the Load/Store markers, and faster)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        children = []
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                children.append(value)
            elif isinstance(value, list):
                children.extend(item for item in value if isinstance(item, ast.AST))
        stack.extend(reversed(children))
    return out


def _root(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _leading_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return _leading_text(node.values[0])
    return None


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
