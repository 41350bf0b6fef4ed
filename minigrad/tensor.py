"""``Tensor``: an array of the active backend plus what autograd needs.

A tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad`` and, once
``backward`` has run, ``grad`` (a tensor of the same shape). A tensor made by an
op that recorded the graph also holds ``_ctx``, the node that knows how to send
gradients back to the op's inputs. Operators and methods are each one call into
:mod:`minigrad.ops`.

Imports go one way: this module imports the ops, and neither the ops nor
:mod:`minigrad.autograd` import it. They see tensors as ``autograd.Node``, and
``Function.apply`` wraps its results in the class registered here with
``@autograd.tensor_class``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd, backend, dtypes, ops
from .ops._util import index_data

_MAX_CONSUMERS = 32


def _operator(fn: Callable[[Any, Any], Any], reflected: bool = False) -> Callable[[Tensor, Any], Any]:
    """``fn`` as an operator method, ``x + 1``; ``reflected``: its twin for ``1 + x``.

    NumPy scalars are passed on as Python numbers: under NumPy 2's rules an ``np.float64`` would promote a
    float32 tensor to float64; as a Python number it takes the tensor's dtype, like any other constant.
    """
    if reflected:
        def method(self: Tensor, other: Any) -> Any:
            return fn(other.item() if isinstance(other, np.generic) else other, self)
    else:
        def method(self: Tensor, other: Any) -> Any:
            return fn(self, other.item() if isinstance(other, np.generic) else other)
    return method


@autograd.tensor_class
class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    Args:
        data: array-like (nested lists, scalars, NumPy or CuPy arrays, tensors).
        dtype: float32 (default for Python floats), float64, or an integer/bool
            dtype for labels and masks.
        device: "cpu" or "cuda"; default: the data's own device, else
            :func:`minigrad.get_default_device`.
        requires_grad: record ops on this tensor so ``backward`` reaches it.
    """

    __slots__ = ("__weakref__", "_consumers", "_ctx", "_retains_grad", "_version", "data", "grad", "requires_grad")
    __array_priority__ = 1000  # so ndarray + tensor calls Tensor.__radd__

    def __init__(self, data: Any, dtype: Any = None, device: str | None = None,
                 requires_grad: bool = False) -> None:
        self.data = _to_array(data, dtype, device)
        self.grad: Tensor | None = None
        self._ctx: autograd.Context | None = None
        self._version = 0
        self._consumers: list[weakref.ref] = []
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: Any, requires_grad: bool = False) -> Tensor:
        """A tensor around an op's result, without copying or checking it."""
        out = cls.__new__(cls)
        if not hasattr(array, "shape"):
            array = backend.get_array_module(array).asarray(array)
        elif isinstance(array, np.generic):
            array = np.asarray(array)
        out.data = array
        out.grad = None
        out._ctx = None
        out._version = 0
        out._consumers = []
        out._retains_grad = False
        out.requires_grad = requires_grad
        return out

    # ----- what it is -----
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = [f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extras)})"

    # ----- conversion -----
    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data, on the host."""
        if self.device == "cpu":
            return np.array(self.data, copy=True)
        return backend.to_device(self.data, "cpu")

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor, as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self.device != "cpu":
            raise TypeError(f"this tensor is on '{self.device}'; call .numpy() to copy it to the host")
        if copy:  # np.array(t) asks for a copy: never hand out the tensor's own buffer then
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all()")
        return bool(self.item())

    def detach(self) -> Tensor:
        """The same data, cut off from the graph (no copy)."""
        return Tensor._wrap(self.data)

    def to(self, device: str) -> Tensor:
        """This tensor on ``device`` ("cpu" or "cuda"); gradients flow back across the move."""
        return ops.to_device(self, device)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def astype(self, dtype: Any) -> Tensor:
        return ops.cast(self, dtype)

    def float(self) -> Tensor:
        return self.astype(dtypes.float32)

    def double(self) -> Tensor:
        return self.astype(dtypes.float64)

    def long(self) -> Tensor:
        return self.astype(dtypes.int64)

    # ----- autograd -----
    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and not dtypes.is_floating(self.dtype):
            raise TypeError(f"only float tensors can require grad; this one is {self.dtype} "
                            "(labels and indices never need a gradient)")
        if not flag and not self.is_leaf:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use .detach()")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this intermediate tensor too after ``backward``."""
        self._retains_grad = True

    def backward(self, gradient: Any = None, retain_graph: bool | None = False, create_graph: bool = False, *,
                 grad: Any = None) -> None:
        """Compute d(self)/dx for every leaf x that requires grad, adding it to ``x.grad``.

        ``gradient`` (PyTorch's name; ``grad=`` is accepted too) defaults to 1 for a
        one-element tensor (a loss); any other tensor needs a gradient of its own
        shape (the vector v of the vector-Jacobian product vᵀJ). The graph is freed
        afterwards unless ``retain_graph``. ``create_graph=True`` (gradients of
        gradients) is not supported.
        """
        if grad is not None:
            if gradient is not None:
                raise TypeError("backward(): gradient= and grad= are two spellings of one argument; give it once")
            gradient = grad
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): minigrad does not record the backward pass, "
                                      "so gradients of gradients are not available")
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: make an input "
                               "with requires_grad=True (outside no_grad) first")
        xp = backend.get_array_module(self.data)
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient works only on a one-element tensor "
                                   f"(a loss); this one has shape {self.shape}: pass gradient of that shape")
            seed = xp.ones(self.data.shape, dtype=self.dtype)
        else:
            seed = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=self.dtype)
            if tuple(seed.shape) != self.shape:
                raise ValueError(f"backward(gradient): gradient has shape {tuple(seed.shape)}, "
                                 f"expected {self.shape}")
        autograd.run_backward(self, seed, retain_graph=bool(retain_graph))

    def zero_grad(self) -> None:
        self.grad = None

    def _accumulate_grad(self, g: Any) -> None:
        if g.dtype != self.dtype:
            g = g.astype(self.dtype)
        if self.grad is None:
            # copy: the same gradient array may reach several tensors, and
            # optimizers update .grad in place
            self.grad = Tensor._wrap(g.copy())
        else:
            self.grad.data = self.grad.data + g

    # ----- in-place changes -----
    def _note_consumer(self, ctx_ref: weakref.ref) -> None:
        consumers = self._consumers
        if len(consumers) >= _MAX_CONSUMERS:
            consumers[:] = [r for r in consumers if (c := r()) is not None and not c.released]
        consumers.append(ctx_ref)

    def _check_inplace(self) -> None:
        if autograd.is_grad_enabled() and self.requires_grad and self.is_leaf:
            raise RuntimeError("in-place change of a leaf tensor that requires grad; "
                               "wrap it in `with minigrad.no_grad():` or write x = x + y")
        for ref in self._consumers:
            ctx = ref()
            if ctx is not None and not ctx.released:
                raise RuntimeError(
                    f"this tensor is needed by {ctx.function.__name__} for backward and cannot be "
                    "changed in place; write x = x + y, or call backward() first")
        own = self._ctx
        if autograd.is_grad_enabled() and own is not None and not own.released:
            # the graph would still treat this tensor as the op's old result: wrong gradients
            raise RuntimeError(f"in-place change of a tensor computed by {own.function.__name__} whose graph "
                               "is still alive; write x = x + y, or call backward() first")
        self._consumers.clear()

    def _assign_inplace(self, new_data: Any) -> Tensor:
        self._check_inplace()
        xp = backend.get_array_module(self.data)
        if tuple(new_data.shape) != self.shape:
            raise ValueError(f"in-place result has shape {tuple(new_data.shape)}, not the tensor's {self.shape}")
        xp.copyto(self.data, new_data, casting="same_kind")
        self._version += 1
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace()
        self.data[index_data(index)] = value.data if isinstance(value, Tensor) else value
        self._version += 1

    def __iadd__(self, other: Any) -> Tensor:
        return self._assign_inplace(self.data + _raw(other))

    def __isub__(self, other: Any) -> Tensor:
        return self._assign_inplace(self.data - _raw(other))

    def __imul__(self, other: Any) -> Tensor:
        return self._assign_inplace(self.data * _raw(other))

    def __itruediv__(self, other: Any) -> Tensor:
        return self._assign_inplace(self.data / _raw(other))

    def fill_(self, value: float) -> Tensor:
        self._check_inplace()
        self.data.fill(value)
        self._version += 1
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        xp = backend.get_array_module(self.data)
        return self._assign_inplace(xp.broadcast_to(xp.asarray(_raw(src), dtype=self.dtype), self.data.shape))

    __hash__ = object.__hash__

    # ----- operators and methods: each one op of minigrad.ops -----
    __add__, __radd__ = _operator(ops.add), _operator(ops.add, reflected=True)
    __sub__, __rsub__ = _operator(ops.sub), _operator(ops.sub, reflected=True)
    __mul__, __rmul__ = _operator(ops.mul), _operator(ops.mul, reflected=True)
    __truediv__, __rtruediv__ = _operator(ops.div), _operator(ops.div, reflected=True)
    __pow__, __rpow__ = _operator(ops.pow), _operator(ops.pow, reflected=True)
    __matmul__, __rmatmul__ = _operator(ops.matmul), _operator(ops.matmul, reflected=True)
    __eq__, __ne__ = _operator(ops.eq), _operator(ops.ne)  # type: ignore[assignment]
    __lt__, __le__, __gt__, __ge__ = _operator(ops.lt), _operator(ops.le), _operator(ops.gt), _operator(ops.ge)
    __neg__, __abs__, __getitem__ = ops.neg, ops.abs, ops.getitem
    exp, log, sqrt, abs, tanh, sigmoid = ops.exp, ops.log, ops.sqrt, ops.abs, ops.tanh, ops.sigmoid
    clip, maximum, minimum = ops.clip, ops.maximum, ops.minimum
    sum, mean, var, std = ops.sum, ops.mean, ops.var, ops.std
    max, min, argmax, argmin = ops.max, ops.min, ops.argmax, ops.argmin
    reshape, view, flatten, squeeze, unsqueeze = ops.reshape, ops.reshape, ops.flatten, ops.squeeze, ops.unsqueeze
    permute, transpose, broadcast_to, pad, matmul = ops.permute, ops.transpose, ops.broadcast_to, ops.pad, ops.matmul
    T = property(ops.transpose)  # all axes reversed

    def any(self, axis: Any = None) -> Tensor:
        return Tensor._wrap(self.data.any(axis=axis))

    def all(self, axis: Any = None) -> Tensor:
        return Tensor._wrap(self.data.all(axis=axis))

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.size

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.ndim


def _raw(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _to_array(data: Any, dtype: Any, device: str | None) -> Any:
    """Make the backing array: supported dtype, on the requested device, never sharing a list's values."""
    wanted = dtypes.resolve_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.data
    source_device = backend.device_of(data) if hasattr(data, "shape") else None
    target = backend.normalize_device(device if device is not None else source_device)
    xp = backend.array_module(target)
    if source_device is not None and source_device != target:
        data = backend.to_device(data, target)
    from_python = not hasattr(data, "dtype")
    if from_python:
        try:
            host = np.asarray(data)
        except (ValueError, TypeError) as err:
            raise TypeError(f"cannot make a tensor from {type(data).__name__}: {err}") from None
        if host.dtype == object or host.dtype.kind in "USV":
            raise TypeError(f"cannot make a tensor from {type(data).__name__} holding {host.dtype} "
                            "values; give numbers")
        array = xp.asarray(host)
    else:
        array = data
    if np.dtype(array.dtype).kind not in "fiub":
        raise TypeError(f"cannot make a tensor of {array.dtype} data; supported dtypes: "
                        f"{', '.join(str(d) for d in dtypes.SUPPORTED_DTYPES)}")
    if wanted is None:
        wanted = dtypes.default_dtype_for(np.dtype(array.dtype), from_python)
    if wanted not in dtypes.SUPPORTED_DTYPES:
        raise TypeError(f"cannot make a tensor of {array.dtype} data; convert it first, e.g. .astype('int64')")
    return xp.array(array, dtype=wanted, copy=True)
