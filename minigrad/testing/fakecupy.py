"""A CuPy stand-in that runs on the CPU, so CI can exercise minigrad's GPU code path.

minigrad's ops and the course's kernels must run unchanged on CuPy: they take the array module from the
data (``xp = get_array_module(x)``) and never call ``numpy.*`` on device arrays. Without a GPU nothing
checks that rule, and a stray ``np.exp(x)`` would only break on the first real GPU run. Here, as in CuPy:

* ``fakecupy.ndarray`` wraps a NumPy array but is none. ``np.asarray(x)``, ``numpy_array + x``,
  ``float(x)`` for ``ndim > 0`` ... raise ``TypeError``; Python and NumPy scalars are fine as operands,
  NumPy arrays are refused in operators, methods and functions; reductions and integer indexing give 0-d
  arrays (views), never NumPy scalars; object, string, datetime and long-double arrays are refused.
* The module forwards all of NumPy (``einsum``, ``add.at``, ``linalg``, ``random.default_rng``,
  ``lib.stride_tricks.as_strided`` ...) next to ``asarray`` (explicit host-to-device copy), ``asnumpy``,
  ``get_array_module``, ``fuse`` and ``cuda`` / memory-pool stubs.
* Stricter than CuPy, which hands ``np.exp(x)``/``np.sum(x)`` back to CuPy (NEP 13/18): these raise, as
  code relying on that is not xp-style. Kernels, ``cupyx``, streams and CuPy's index wrap-around are not
  emulated.

Use it by serving the ``"cuda"`` device with it, e.g. in a pytest fixture::

    from minigrad.testing import fake_cuda

    @pytest.fixture
    def cuda():
        with fake_cuda() as xp:  # register_device("cuda", fakecupy) ... unregister_device("cuda")
            yield xp
"""

from __future__ import annotations

import functools
import operator
import sys
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")
_XP_HINT = "(write xp = get_array_module(x) and call xp.<function>, so the code also runs on CuPy)"
_SCALARS = (bool, int, float, complex, np.generic)  # what CuPy kernels take besides device arrays
# NumPy turns the scalar of `numpy_scalar < x` into a 0-d array; CuPy accepts that (numpy#12142).
_COMPARISONS = {"less", "less_equal", "equal", "not_equal", "greater", "greater_equal"}


def _mixed(x: Any) -> TypeError:
    return TypeError(f"Unsupported type {type(x)}: host data cannot be mixed with a fakecupy.ndarray "
                     "(nor with a cupy.ndarray); copy it to the device first with xp.asarray(...)")


def _unwrap(obj: Any, seen: dict[int, ndarray], strict: bool = True) -> Any:
    """Replace device arrays by their NumPy data (noting them in ``seen``), through lists/tuples/dicts."""
    if isinstance(obj, ndarray):
        seen[id(obj._a)] = obj
        return obj._a
    if isinstance(obj, np.ndarray):
        if strict:  # CuPy never moves host arrays to the device implicitly
            raise _mixed(obj)
        return obj
    if type(obj) in (list, tuple):
        return type(obj)(_unwrap(x, seen, strict) for x in obj)
    if type(obj) is dict:
        return {k: _unwrap(v, seen, strict) for k, v in obj.items()}
    return obj


def _wrap(obj: Any, seen: dict[int, ndarray] | None = None) -> Any:
    if isinstance(obj, np.ndarray):
        # A result that *is* an input (out=x, asarray(x), astype(copy=False)) is that same device array.
        return seen[id(obj)] if seen and id(obj) in seen else ndarray._from(obj)
    if isinstance(obj, np.generic):  # CuPy returns 0-d arrays where NumPy returns scalars
        return ndarray._from(np.asarray(obj))
    if isinstance(obj, tuple):
        items = [_wrap(x, seen) for x in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)  # namedtuples: SVDResult ...
    if isinstance(obj, list):
        return [_wrap(x, seen) for x in obj]
    if isinstance(obj, (np.random.Generator, np.random.RandomState)):
        return _Namespace(obj, f"fakecupy.random.{type(obj).__name__}")
    return obj


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict, strict: bool = True) -> Any:
    seen: dict[int, ndarray] = {}
    return _wrap(fn(*_unwrap(args, seen, strict), **_unwrap(kwargs, seen, strict)), seen)


def _operand(x: Any) -> Any:
    """The NumPy-side value of an operator's other operand, or NotImplemented to defer to it."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _SCALARS):
        return x
    if isinstance(x, np.ndarray):
        raise _mixed(x)
    if getattr(type(x), "__array_ufunc__", 0) is None:  # NEP 13 opt-out: let its reflected operator run
        return NotImplemented
    raise TypeError(f"Unsupported type {type(x)}")  # lists, None ...: CuPy raises too


def _check_dtype(a: np.ndarray) -> np.ndarray:
    # CuPy has no such arrays; a ragged xp.array([...]) would silently make an object array otherwise.
    if a.dtype.kind in "OSUMm" or a.dtype.char in "gG":
        raise TypeError(f"Unsupported dtype {a.dtype}: CuPy has no such arrays")
    return a


class ndarray:
    """A device array: NumPy data behind a wall NumPy cannot see through; ``.get()`` copies it out."""

    __slots__ = ("__weakref__", "_a")
    __array_priority__ = 100  # CuPy's value

    def __init__(self, shape: Any, dtype: Any = float, memptr: Any = None, strides: Any = None,
                 order: str = "C") -> None:
        self._a = _check_dtype(np.empty(shape, dtype, order=order))  # uninitialised, as cupy.ndarray()

    @classmethod
    def _from(cls, a: np.ndarray) -> ndarray:
        out = object.__new__(cls)
        out._a = _check_dtype(a)
        return out

    # NumPy's ways in, all closed: np.asarray/np.array/buffer-less C paths, ufuncs, array functions.
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(f"{func.__module__}.{func.__name__}() got a fakecupy.ndarray. {_IMPLICIT} {_XP_HINT}")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # `numpy_scalar * x` lands here, as NumPy scalars do not defer to x.__rmul__; CuPy accepts it.
        if method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is self:
            host = inputs[0]
            if isinstance(host, np.generic) or (
                    ufunc.__name__ in _COMPARISONS and isinstance(host, np.ndarray) and host.ndim == 0):
                return _wrap(ufunc(host, self._a))
        for x in inputs + tuple(kwargs.get("out", ())):
            if isinstance(x, np.ndarray):
                raise _mixed(x)
        name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
        raise TypeError(f"numpy.{name}() got a fakecupy.ndarray. {_IMPLICIT} {_XP_HINT}")

    def get(self, stream: Any = None, order: str = "C", out: np.ndarray | None = None) -> np.ndarray:
        """Copy to a new NumPy array (or into ``out``)."""
        if out is None:
            return np.array(self._a, order=order, copy=True)
        out[...] = self._a
        return out

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self) -> Any:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key: Any) -> ndarray:
        key = _unwrap(key, {}, strict=False)  # CuPy copies NumPy/list indices to the device
        k = key if isinstance(key, tuple) else (key,)
        if not any(i is Ellipsis for i in k):
            k = (*k, Ellipsis)  # so x[i, j] is a 0-d *view*, as in CuPy, not a NumPy scalar
        return _wrap(self._a[k])

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]  # CuPy's fill takes 0-d host arrays as scalars
        v = _operand(value)
        if v is NotImplemented:
            raise TypeError(f"Unsupported type {type(value)}")
        self._a[_unwrap(key, {}, strict=False)] = v

    def __reduce__(self) -> tuple:
        return ndarray._from, (self.get(),)


def _binary(op: Callable[[Any, Any], Any], reflected: bool = False, inplace: bool = False) -> Callable:
    def method(self: ndarray, other: Any) -> Any:
        b = _operand(other)
        if b is NotImplemented:
            return NotImplemented
        if inplace:
            op(self._a, b)  # NumPy writes into the wrapped buffer, so views and the base see the change
            return self
        return _wrap(op(b, self._a) if reflected else op(self._a, b))
    return method


def _method(name: str, strict: bool = True) -> Callable[..., Any]:
    fn = getattr(np.ndarray, name)

    def method(self: ndarray, *args: Any, **kwargs: Any) -> Any:
        return _call(fn, (self, *args), kwargs, strict)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"numpy.ndarray.{name} on the device."
    return method


for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift",
              "and", "or", "xor"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(ndarray, f"__{_name}__", _binary(_op))
    setattr(ndarray, f"__r{_name}__", _binary(_op, reflected=True))
    setattr(ndarray, f"__i{_name}__", _binary(getattr(operator, f"i{_name}"), inplace=True))
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name)))
ndarray.__divmod__, ndarray.__rdivmod__ = _binary(divmod), _binary(divmod, reflected=True)
ndarray.__neg__ = lambda self: _wrap(-self._a)
ndarray.__abs__ = lambda self: _wrap(abs(self._a))
ndarray.__invert__ = lambda self: _wrap(~self._a)
ndarray.__pos__ = lambda self: self  # CuPy returns the array itself, not a copy
ndarray.__copy__ = ndarray.__deepcopy__ = lambda self, *memo: self.copy()
# No __index__, as in CuPy: `a_list[x]` and `range(x)` fail there too.
# Conversions to Python objects, which CuPy allows (they synchronise). CuPy prints like NumPy: array([...])
for _name in ("item", "tolist", "tobytes", "__bool__", "__int__", "__float__", "__complex__", "__repr__",
              "__str__", "__format__"):
    setattr(ndarray, _name, lambda self, *args, n=_name: getattr(self._a, n)(*args))
for _name in ("dtype", "ndim", "size", "nbytes", "strides", "itemsize", "flags"):
    setattr(ndarray, _name, property(operator.attrgetter(f"_a.{_name}")))
ndarray.shape = property(operator.attrgetter("_a.shape"), lambda self, v: setattr(self._a, "shape", v))
ndarray.device = property(lambda self: _Device(0))
for _name in ("T", "mT", "real", "imag", "base"):
    setattr(ndarray, _name, property(lambda self, n=_name: _wrap(getattr(self._a, n))))
for _name in ["all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "choose", "clip", "conj",
              "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "fill", "flatten", "max", "mean",
              "min", "nonzero", "partition", "prod", "ravel", "repeat", "reshape", "round", "sort", "squeeze",
              "std", "sum", "swapaxes", "trace", "transpose", "var", "view"]:
    setattr(ndarray, _name, _method(_name))
for _name in ("take", "put", "compress"):  # CuPy copies host index arrays for these
    setattr(ndarray, _name, _method(_name, strict=False))


class _Ufunc:
    """A NumPy ufunc on device arrays; as with CuPy's, operands must be device arrays or scalars."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc, self.__name__ = ufunc, ufunc.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for x in args:
            if not isinstance(x, (ndarray, *_SCALARS)):
                raise _mixed(x) if isinstance(x, np.ndarray) else TypeError(f"Unsupported type {type(x)}")
        return _call(self._ufunc, args, kwargs)

    def at(self, a: ndarray, indices: Any, b: Any = None) -> None:
        """Unbuffered in-place ``a[indices] op= b``: repeated indices accumulate."""
        extra = () if b is None else (_unwrap(b, {}),)
        self._ufunc.at(_unwrap(a, {}), _unwrap(indices, {}, strict=False), *extra)

    def __getattr__(self, name: str) -> Any:  # reduce, accumulate, reduceat, outer, nin, identity ...
        value = getattr(self._ufunc, name)
        return _function(value) if callable(value) else value

    def __repr__(self) -> str:
        return f"<fakecupy ufunc '{self.__name__}'>"


class _Namespace:
    """Forwards a NumPy namespace (a module, or a random Generator), wrapping what it hands out."""

    def __init__(self, target: Any, name: str) -> None:
        self._target, self.__name__ = target, name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocol probes (__array__, __wrapped__ ...) must not reach NumPy
            raise AttributeError(name)
        value = _forward(getattr(self._target, name), f"{self.__name__}.{name}")
        setattr(self, name, value)  # cached: the next lookup skips __getattr__
        return value

    def __repr__(self) -> str:
        return f"<{self.__name__}: fakecupy over {self._target!r}>"


def _function(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _call(fn, args, kwargs)
    return wrapper


def _forward(value: Any, name: str) -> Any:
    if isinstance(value, np.ufunc):
        return _Ufunc(value)
    if isinstance(value, ModuleType):
        return _Namespace(value, name)
    if isinstance(value, type) and not issubclass(value, (np.random.Generator, np.random.RandomState)):
        return value  # dtypes and classes are NumPy's own in CuPy too (cupy.float32 is numpy.float32)
    return _function(value) if callable(value) else value  # else constants: pi, inf, newaxis ...


def array(obj: Any, dtype: Any = None, copy: bool | None = True, order: str | None = "K", subok: bool = False,
          ndmin: int = 0) -> ndarray:
    """Make a device array. Host data (NumPy arrays, lists, scalars) is always copied, as by CuPy."""
    host = not isinstance(obj, ndarray)
    seen: dict[int, ndarray] = {}
    data = _unwrap(obj, seen, strict=False)  # an explicit host-to-device copy is what CuPy allows
    return _wrap(np.array(data, dtype, copy=True if host else (copy or None), order=order, ndmin=ndmin), seen)


def asarray(a: Any, dtype: Any = None, order: str | None = None, **kwargs: Any) -> ndarray:
    """:func:`array` without copying a device array that already fits (that is then ``a`` itself)."""
    return array(a, dtype, copy=False, order=order or "K")


asanyarray = asarray


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: np.ndarray | None = None) -> np.ndarray:
    """Copy a device array to the host; host data passes through."""
    if isinstance(a, ndarray):
        return a.get(stream, order, out)
    return np.asarray(a, order=order)


def get_array_module(*args: Any) -> ModuleType:
    """This module if any argument is a device array, else NumPy."""
    return sys.modules[__name__] if any(isinstance(x, ndarray) for x in args) else np


def fuse(*args: Any, **kwargs: Any) -> Any:
    """``@fuse`` and ``@fuse(kernel_name=...)``: CuPy's kernel fusion, here the identity."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


class _Device:
    """``cuda.Device`` and ``cuda.Stream``: one device, and never anything to wait for."""

    def __init__(self, device: int | None = None) -> None:
        self.id = int(device or 0)

    def __enter__(self) -> _Device: return self
    def __exit__(self, *exc: object) -> None: return None
    use = synchronize = __exit__
    def __eq__(self, other: object) -> bool: return type(other) is type(self) and other.id == self.id
    def __hash__(self) -> int: return self.id
    def __repr__(self) -> str: return f"<CUDA {type(self).__name__.strip('_')} {self.id}>"


class _Stream(_Device):
    null: _Stream


_Stream.null = _Stream()
_pool = SimpleNamespace(free_all_blocks=lambda: None, used_bytes=lambda: 0, total_bytes=lambda: 0)
get_default_memory_pool = get_default_pinned_memory_pool = lambda: _pool
cuda = SimpleNamespace(
    Device=_Device, Stream=_Stream, is_available=lambda: True, get_current_stream=lambda: _Stream.null,
    runtime=SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0, deviceSynchronize=lambda: None))
_numpy = _Namespace(np, "fakecupy")


def __getattr__(name: str) -> Any:
    """Everything else NumPy has (PEP 562), forwarded on device arrays and cached."""
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        value = getattr(_numpy, name)
    except AttributeError:
        raise AttributeError(f"module 'fakecupy' has no attribute {name!r} (NumPy has none; CUDA-only "
                             "CuPy API such as kernels and cupyx is not emulated)") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(dir(np)))
