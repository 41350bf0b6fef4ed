"""Where the suites get expected values: the reference ``solutions``, or values recorded from them.

Suites call reference functions through this module instead of importing ``solutions``::

    from grader.judge.reference import reference
    ref = reference("relu")
    expected, cache = ref.relu_forward(x)

and judge-side helpers that build reference objects are wrapped with ``@recorded("name")``. Three modes:

- **direct** (the kit: ``solutions`` is importable): ``reference("relu")`` *is* ``solutions.relu`` and
  ``recorded`` returns the function unchanged, so grading behaves exactly as without this module.
- **record** (``$GRADER_REFERENCE_RECORD`` names a folder; ``grader release`` sets it): every call runs the
  reference and writes its result to that folder, keyed by a hash of the call (the function's name and its
  arguments: arrays by dtype, shape and bytes, other values by type and value).
- **replay** (a handout: no ``solutions``; or ``$GRADER_REFERENCE_DATA`` names a recording): every call
  returns the result recorded at release time for the same key, read from ``suites/public/expected.npz``
  and its index ``expected.json``. A call that was not recorded raises :class:`MissingReference`.

Results that are not plain values (a solution's cache object, say) are recorded as opaque handles: they
can only be passed back to a later reference call, which is keyed by the handle.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from grader.vocabulary.files import atomic_write_text, replacing

RECORD_ENV = "GRADER_REFERENCE_RECORD"
DATA_ENV = "GRADER_REFERENCE_DATA"
DATA_DIR = Path(__file__).resolve().parents[1] / "suites" / "public"
DATA_NAME = "expected"  # expected.npz (the arrays) + expected.json (the index)
FORMAT = 1

__all__ = ["MissingReference", "Opaque", "call_key", "mode", "recorded", "reference"]


class MissingReference(RuntimeError):
    """A reference call with no recorded result (the public tests or their seed changed since the release)."""


class Opaque:
    """A recorded result that is not a plain value (e.g. a cache): it only stands for itself in later calls."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"<recorded reference value {self.token}>"


def mode() -> str:
    """"record", "replay" or "direct" (see the module's docstring)."""
    if os.environ.get(RECORD_ENV):
        return "record"
    if os.environ.get(DATA_ENV) or importlib.util.find_spec("solutions") is None:
        return "replay"
    return "direct"


def reference(module: str) -> Any:
    """The reference module ``solutions.<module>``, or a stand-in that records or replays its functions."""
    if mode() == "direct":
        return importlib.import_module(f"solutions.{module}")
    return _Module(module)


def recorded(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a judge-side helper computed from ``solutions`` so that it is recorded and replayed as ``name``."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if mode() == "direct":
            return fn
        return functools.wraps(fn)(_Recorded(name, fn))

    return wrap


class _Module:
    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def solution(*args: Any, **kwargs: Any) -> Any:
            return getattr(importlib.import_module(f"solutions.{self._module}"), name)(*args, **kwargs)

        return _Recorded(f"{self._module}.{name}", solution)


class _Recorded:
    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self.fn = name, fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = call_key(self.name, args, kwargs)
        if mode() == "record":
            result = self.fn(*args, **kwargs)
            _record(Path(os.environ[RECORD_ENV]), key, self.name, result)
            return result
        return _replay(key, self.name)


# ----- keys -----

_HANDLES: dict[int, tuple[Any, str]] = {}  # record mode: id(object) -> (object kept alive, its token)
_PLAIN = (bool, int, float, str, type(None))


def call_key(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A hash of a call: the function's name and every argument's type, dtype, shape and bytes or value."""
    digest = hashlib.sha256(f"reference call v{FORMAT}\0{name}\0".encode())
    _digest(digest, tuple(args))
    _digest(digest, {k: kwargs[k] for k in sorted(kwargs)})
    return digest.hexdigest()[:32]


def _digest(h: Any, value: Any) -> None:
    if isinstance(value, Opaque):
        h.update(b"O" + value.token.encode() + b"\0")
    elif type(value) is np.ndarray:
        if value.dtype.hasobject:
            raise TypeError("a reference call got an object array, which cannot be recorded")
        h.update(b"A" + value.dtype.str.encode() + repr(value.shape).encode() + b"\0")
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        h.update(b"S" + value.dtype.str.encode() + b"\0" + np.asarray(value).tobytes())
    elif type(value) in _PLAIN:
        h.update(b"P" + type(value).__name__.encode() + b"\0" + repr(value).encode() + b"\0")
    elif type(value) in (tuple, list):
        h.update(b"T" if type(value) is tuple else b"L")
        h.update(struct.pack("<q", len(value)))
        for item in value:
            _digest(h, item)
    elif type(value) is dict:
        h.update(b"D" + struct.pack("<q", len(value)))
        for k, v in value.items():
            _digest(h, k)
            _digest(h, v)
    elif id(value) in _HANDLES and _HANDLES[id(value)][0] is value:
        h.update(b"O" + _HANDLES[id(value)][1].encode() + b"\0")
    else:
        raise TypeError(f"a reference call got a {type(value).__name__}, which cannot be recorded")


# ----- record -----

def _encode(value: Any, arrays: list[np.ndarray], token: str) -> Any:
    """A JSON tree for ``value``; arrays go to ``arrays``; other objects become handles named ``token``."""
    if type(value) is np.ndarray and not value.dtype.hasobject:
        arrays.append(value)
        return {"a": len(arrays) - 1}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        arrays.append(np.asarray(value))
        return {"s": len(arrays) - 1}
    if type(value) in _PLAIN:
        return {"v": value}
    if type(value) in (tuple, list):
        items = [_encode(v, arrays, f"{token}.{i}") for i, v in enumerate(value)]
        return {"t" if type(value) is tuple else "l": items}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"d": [[k, _encode(v, arrays, f"{token}.{k}")] for k, v in value.items()]}
    _HANDLES[id(value)] = (value, token)
    return {"o": token}


def _record(folder: Path, key: str, name: str, result: Any) -> None:
    arrays: list[np.ndarray] = []
    tree = _encode(result, arrays, key)
    folder.mkdir(parents=True, exist_ok=True)
    with replacing(folder / f"{key}.npz", suffix=".npz", durable=False) as temp:
        np.savez(temp, **{str(i): a for i, a in enumerate(arrays)})
    atomic_write_text(folder / f"{key}.json", json.dumps({"name": name, "tree": tree}), durable=False)


# ----- replay -----

@functools.lru_cache(maxsize=4)
def _load(prefix: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    index_path, data_path = prefix.with_suffix(".json"), prefix.with_suffix(".npz")
    if not index_path.is_file() or not data_path.is_file():
        raise MissingReference(f"no recorded expected values at {data_path} (and no `solutions` package): "
                               "rebuild the handout with `grader release`")
    index = json.loads(index_path.read_text())
    if index.get("format") != FORMAT:
        raise MissingReference(f"{index_path} has format {index.get('format')!r}, not {FORMAT}: rebuild the handout")
    try:
        with np.load(data_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise MissingReference(f"cannot read {data_path}: {err}") from None
    return index["calls"], arrays


def _replay(key: str, name: str) -> Any:
    given = os.environ.get(DATA_ENV)
    calls, arrays = _load(Path(given) if given else DATA_DIR / DATA_NAME)
    entry = calls.get(key)
    if entry is None or entry.get("name") != name:
        raise MissingReference(f"no recorded expected value for this call of {name}: were the public tests or "
                               "their seed changed? rebuild the handout (grader release)")
    return _decode(entry["tree"], arrays, key)


def _decode(tree: Any, arrays: dict[str, np.ndarray], key: str) -> Any:
    kind, value = next(iter(tree.items()))
    if kind == "a":
        return arrays[f"{key}/{value}"].copy()
    if kind == "s":
        return arrays[f"{key}/{value}"][()]
    if kind == "v":
        return value
    if kind == "t":
        return tuple(_decode(v, arrays, key) for v in value)
    if kind == "l":
        return [_decode(v, arrays, key) for v in value]
    if kind == "d":
        return {k: _decode(v, arrays, key) for k, v in value}
    return Opaque(value)
