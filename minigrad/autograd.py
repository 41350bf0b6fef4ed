"""The autograd engine: grad mode, ``Function`` and the backward pass.

Every differentiable op is a :class:`Function` with two static methods that work
on raw arrays (NumPy or CuPy)::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):                 # x: raw array
            out = get_array_module(x).exp(x)
            ctx.save_for_backward(out)       # keep what backward needs
            return out

        @staticmethod
        def backward(ctx, grad):             # grad: dL/d(out), shape of out
            (out,) = ctx.saved_arrays
            return grad * out                # dL/dx, one per forward input

    def exp(x):
        return Exp.apply(x)

``Function.apply`` unwraps tensors, runs ``forward``, and — when some input
requires grad and grad mode is on — records a node of the graph. Arguments that
are not tensors (Python scalars, axes, kernel sizes) are passed through as they
are and get no gradient; ``backward`` returns ``None`` (or anything) for them.

``backward`` walks the recorded graph in reverse topological order with an
explicit stack (no recursion, so a 10,000-op chain is fine), sums the gradients
of tensors used more than once, stores them on leaves, and frees the graph.

This module sits below ``Tensor``: ``minigrad/tensor.py`` imports the ops, and
the ops import this module, so it never imports ``tensor.py``. The backward
pass sees tensors only as :class:`Node`; ``Function.apply`` builds its results
with the class ``tensor.py`` registers through :func:`tensor_class`.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from . import backend

__all__ = ["Context", "Function", "Node", "as_tensor", "enable_grad", "is_grad_enabled", "no_grad",
           "set_grad_enabled", "tensor_class"]

_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T", bound=type)
_grad_enabled = True
_tensor: Any = None  # the class registered by @tensor_class: minigrad.tensor.Tensor


class Node(Protocol):
    """What the backward pass needs of a tensor: whether it wants a gradient, and the op that made it."""

    requires_grad: bool
    _ctx: Context | None
    _version: int  # bumped by every in-place change, so backward can refuse stale inputs
    _retains_grad: bool  # a non-leaf that keeps its .grad

    def _accumulate_grad(self, g: Any) -> None: ...


def tensor_class(cls: _T) -> _T:
    """Class decorator: ``Function.apply`` unwraps instances of ``cls`` and wraps its results in ``cls``."""
    global _tensor
    _tensor = cls
    return cls


def as_tensor(value: Any) -> Node:
    """``value`` if it is a tensor, else a new tensor of it that records nothing."""
    return value if isinstance(value, _tensor) else _tensor(value)


def is_grad_enabled() -> bool:
    """Whether ops record the graph right now."""
    return _grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off inside a ``with`` block or a decorated function."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()

    def __call__(self, func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.mode):  # a fresh one per call; subclasses take no mode argument
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Evaluate without recording the graph (inference, optimizer steps).

    Works as ``with minigrad.no_grad(): ...`` and as ``@minigrad.no_grad()``.
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record the graph again inside a ``no_grad`` region."""

    def __init__(self) -> None:
        super().__init__(True)


class Context:
    """What one op remembers between its forward and its backward.

    ``save_for_backward(*arrays)`` keeps arrays for ``ctx.saved_arrays``; any
    other attribute (``ctx.axis = axis``) can be set freely.
    ``ctx.needs_input_grad[i]`` tells whether input ``i`` wants a gradient, so a
    backward can skip work nobody asked for.
    """

    def __init__(self) -> None:
        self.saved_arrays: tuple[Any, ...] = ()
        self.needs_input_grad: tuple[bool, ...] = ()
        self.inputs: tuple[Any, ...] = ()
        self.input_versions: tuple[int, ...] = ()
        self.function: type[Function] | None = None
        self.released = False

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_arrays = arrays

    def release(self) -> None:
        """Drop the inputs and saved arrays: the graph behind this node is freed."""
        self.saved_arrays = ()
        self.inputs = ()
        self.released = True


class Function:
    """Base class of differentiable ops: subclass it and define ``forward`` and ``backward``.

    ``forward(ctx, *args, **kwargs)`` gets raw arrays in place of tensors and
    returns one raw array. ``backward(ctx, grad)`` gets dL/d(output) and returns
    dL/d(input) for each positional input of ``forward`` (a tuple, or a single
    array when there is one input); return ``None`` for inputs that are not
    differentiable. Gradients must have the input's shape.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Node:
        tensor = _tensor
        first = None
        needs_grad = False
        raw = []
        for arg in args:
            if isinstance(arg, tensor):
                if first is None:
                    first = arg
                # same array type means same device; only a type change needs the slower lookup
                elif type(arg.data) is not type(first.data) and arg.device != first.device:
                    raise backend.DeviceError(
                        f"{cls.__name__}: inputs are on '{first.device}' and '{arg.device}'; "
                        f"move one with .to('{first.device}') so both are on one device"
                    )
                needs_grad = needs_grad or arg.requires_grad
                raw.append(arg.data)
            else:
                raw.append(arg)

        ctx = Context()
        record = needs_grad and _grad_enabled
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, tensor) and a.requires_grad for a in args)
        out = cls.forward(ctx, *raw, **kwargs)
        if record and getattr(out, "dtype", None) is not None and out.dtype.kind != "f":
            record = False  # integer and boolean results carry no gradient
        result = tensor._wrap(out, requires_grad=record)
        if record:
            ctx.function = cls
            ctx.inputs = args
            ctx.input_versions = tuple(a._version if isinstance(a, tensor) else None for a in args)
            result._ctx = ctx
            ctx_ref = weakref.ref(ctx)
            for arg in args:
                if isinstance(arg, tensor):
                    arg._note_consumer(ctx_ref)
        return result


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root`` through recorded ops, inputs before outputs."""
    order: list[Node] = []
    visited: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        # mark a node when it is expanded, not when it is pushed: a node pushed early through a short
        # path must still be expanded (and so come out) only after every node that feeds it
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is None:
            continue
        for parent in ctx.inputs:
            if getattr(parent, "requires_grad", False) and id(parent) not in visited:
                stack.append((parent, False))
    return order


def run_backward(root: Node, grad: Any, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · grad into ``leaf.grad`` for every leaf that requires grad."""
    order = _topological_order(root)
    grads: dict[int, Any] = {id(root): grad}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        ctx = node._ctx
        if ctx is None or node._retains_grad:
            node._accumulate_grad(g)
        if ctx is None:
            continue
        if ctx.released:
            raise RuntimeError(
                "backward through a graph that was already freed: call backward(retain_graph=True) "
                "the first time if you need to go through the same graph twice"
            )
        for arg, version in zip(ctx.inputs, ctx.input_versions):
            if version is not None and arg._version != version:  # None: not a tensor
                raise RuntimeError(
                    f"{ctx.function.__name__}: an input it needs for backward was changed in place after "
                    "it was used (by x += y, x[i] = v or an optimizer step); compute it again after the change"
                )
        input_grads = ctx.function.backward(ctx, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(ctx.inputs):
            raise RuntimeError(
                f"{ctx.function.__name__}.backward returned {len(input_grads)} gradients "
                f"for {len(ctx.inputs)} inputs"
            )
        for arg, ig in zip(ctx.inputs, input_grads):
            if ig is None or not getattr(arg, "requires_grad", False):
                continue
            if tuple(ig.shape) != arg.shape:
                raise RuntimeError(
                    f"{ctx.function.__name__}.backward returned a gradient of shape "
                    f"{tuple(ig.shape)} for an input of shape {arg.shape}"
                )
            key = id(arg)
            grads[key] = ig if key not in grads else grads[key] + ig
        if not retain_graph:
            ctx.release()
