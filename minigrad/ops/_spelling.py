"""PyTorch's keyword spellings beside NumPy's: ``dim=`` for ``axis=``, ``keepdim=`` for ``keepdims=``.

Students arrive writing ``x.sum(dim=1, keepdim=True)``; the ops are written with NumPy's names. The
decorator :func:`pytorch_spellings` renames the PyTorch keywords before the op sees them, so both
spellings reach one code path. Giving both spellings of one argument, or a keyword the op does not
know, is a one-line ``TypeError`` that names both spellings.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

#: PyTorch keyword -> the NumPy keyword minigrad's ops use
ALIASES: dict[str, str] = {"dim": "axis", "keepdim": "keepdims"}
_NUMPY_TO_TORCH = {numpy: torch for torch, numpy in ALIASES.items()}


def spelled(op: str, parameters: Sequence[str]) -> str:
    """The keywords ``op`` takes, each NumPy name followed by its PyTorch twin: "axis= (or dim=), ..."."""
    names = [f"{p}= (or {_NUMPY_TO_TORCH[p]}=)" if p in _NUMPY_TO_TORCH else f"{p}=" for p in parameters]
    return f"{op} takes " + ", ".join(names) if names else f"{op} takes no keywords"


def rename_keywords(op: str, kwargs: dict[str, Any], parameters: Sequence[str],
                    positional: Sequence[str] = ()) -> dict[str, Any]:
    """``kwargs`` with PyTorch spellings renamed to the NumPy ones ``parameters`` holds.

    ``positional`` are the parameters already given by position. One-line TypeError for an unknown
    keyword (listing the keywords after the first parameter, the tensor), or for one argument given
    twice under its two spellings.
    """
    renamed: dict[str, Any] = {}
    for key, value in kwargs.items():
        target = ALIASES.get(key, key) if key not in parameters else key
        if target not in parameters:
            raise TypeError(f"{op}() got an unexpected keyword argument {key!r}; {spelled(op, parameters[1:])}")
        if target in renamed or target in positional:
            twin = _NUMPY_TO_TORCH.get(target, target)
            raise TypeError(f"{op}(): {target}= and {twin}= are two spellings of one argument; give it once")
        renamed[target] = value
    return renamed


def pytorch_spellings(fn: _F) -> _F:
    """Let ``fn`` take ``dim=``/``keepdim=`` wherever it takes ``axis=``/``keepdims=`` (see module doc)."""
    parameters = [name for name, p in inspect.signature(fn).parameters.items()
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    by_position = [name for name, p in inspect.signature(fn).parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
    op = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            kwargs = rename_keywords(op, kwargs, parameters, by_position[:len(args)])
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
