"""A numerical gradient checker for your own kernels and Functions.

    from minigrad.testing import gradcheck
    gradcheck((conv2d_forward, conv2d_backward), x, w, b, stride=2, padding=1)   # a kernel pair
    gradcheck(Cube, x)                                                           # a minigrad.Function
    gradcheck(lambda x, w: (x @ w).tanh(), x, w)                                 # any function of tensors

The float inputs (arrays or tensors) are copied to float64; everything else (integer labels, sizes,
keyword options) is passed through as it is. A random upstream gradient g of the output's shape turns
the output into one number, L = Σ out·g, whose gradient the backward pass computes (dout = g for a
kernel pair). Central differences give the same gradient numerically, element by element, over the
whole of every float input:

    dL/dx_i ≈ Σ (out(x + h·e_i) - out(x - h·e_i))·g / 2h        (error O(h²); h = ``eps``)

An element passes when |backward - numeric| <= atol + rtol·|numeric|; the report names, per input, the
worst element (the largest error relative to that allowance). A random g, not ones, keeps a wrong
transpose or a missing sum from hiding. Kinks (ReLU at 0, a max pool with ties) have no derivative:
random inputs land on one with negligible probability, hand-made ones (integers) often do.

A kernel pair is ``forward(*inputs, **options) -> (out, cache)`` and ``backward(dout, cache) ->``
one gradient per float input, in order (a tuple, or one array; a trailing None for an optional input
that was not given, such as conv's bias). Work is element by element — 2 forward calls per element —
so keep the inputs small: a few hundred elements take well under a second.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.backend import get_array_module
from minigrad.tensor import Tensor

__all__ = ["GradcheckError", "GradcheckResult", "InputCheck", "gradcheck"]


class GradcheckError(AssertionError):
    """A backward pass that disagrees with central differences (or breaks the kernel rules)."""


@dataclass
class InputCheck:
    """How one float input fared: its worst element, or the ``problem`` that stopped the comparison."""

    name: str
    shape: tuple[int, ...]
    ok: bool
    worst_index: tuple[int, ...] = ()
    analytic: float = 0.0
    numeric: float = 0.0
    abs_error: float = 0.0
    rel_error: float = 0.0
    problem: str = ""

    def line(self) -> str:
        where = f"[{', '.join(map(str, self.worst_index))}]"
        if self.problem:
            return f"{self.name} {self.shape}: {self.problem}"
        return (f"{self.name} {self.shape}: {'ok' if self.ok else 'WRONG'}, worst at {where}: backward "
                f"{self.analytic:.6g}, numeric {self.numeric:.6g} (abs error {self.abs_error:.2g}, "
                f"rel error {self.rel_error:.2g})")


@dataclass
class GradcheckResult:
    """The outcome of :func:`gradcheck`: truthy when every input's gradient matched."""

    function: str
    inputs: list[InputCheck] = field(default_factory=list)
    problem: str = ""
    eps: float = 1e-6
    atol: float = 1e-6
    rtol: float = 1e-5

    @property
    def ok(self) -> bool:
        return not self.problem and all(check.ok for check in self.inputs)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "gradients match central differences" if self.ok else "gradients are WRONG"
        head = (f"gradcheck {self.function}: {verdict} (float64, eps {self.eps:g}; an element passes when "
                f"|error| <= {self.atol:g} + {self.rtol:g}·|numeric|)")
        lines = [head] + ([f"  {self.problem}"] if self.problem else []) + [f"  {c.line()}" for c in self.inputs]
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck(fn: Any, *inputs: Any, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0,
              raise_exception: bool = True, **options: Any) -> GradcheckResult:
    """Check the backward pass of ``fn`` against central differences in float64 (see the module doc).

    ``fn``: a ``(forward, backward)`` kernel pair, a :class:`minigrad.Function` subclass, or a function
    of tensors returning a tensor. ``inputs``: positional inputs; float arrays and tensors are checked
    (a tensor with ``requires_grad=False`` is a constant), others passed through. A float64 tensor is
    perturbed in place and restored, so a function may also reach it another way (a module's own
    parameter); any other float input is checked on a float64 copy. ``options``: keyword
    arguments for ``fn`` (``stride=2`` ...). Returns a :class:`GradcheckResult`; raises
    :class:`GradcheckError` with its text when a gradient is wrong, unless ``raise_exception=False``.
    """
    if not (isinstance(eps, float) and eps > 0):
        raise ValueError(f"eps must be a positive float, got {eps!r}")
    if isinstance(fn, tuple):
        if len(fn) != 2 or not all(callable(f) for f in fn):
            raise TypeError("gradcheck: a kernel pair is a tuple (forward, backward) of two functions")
        run = _KernelPair(fn[0], fn[1], inputs, options)
    elif isinstance(fn, type) and issubclass(fn, autograd.Function):
        run = _TensorFunction(fn.apply, fn.forward, fn.__name__, inputs, options)
    elif callable(fn):
        run = _TensorFunction(fn, fn, getattr(fn, "__name__", type(fn).__name__), inputs, options)
    else:
        raise TypeError(f"gradcheck: fn must be a (forward, backward) pair, a minigrad.Function or a function "
                        f"of tensors, got {type(fn).__name__}")
    result = GradcheckResult(run.label, eps=eps, atol=atol, rtol=rtol)
    result.problem = run.prepare(seed)
    if not result.problem:
        result.inputs = [_compare(run, k, eps, atol, rtol) for k in range(len(run.checked))]
    if raise_exception and not result.ok:
        raise GradcheckError(str(result))
    return result


# ----- the two ways of running fn -----

def _float_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and np.dtype(value.dtype).kind == "f"


def _names(fn: Callable[..., Any], skip: int, count: int) -> list[str]:
    """The parameter names of ``fn`` after ``skip`` (ctx), for messages; "input i" where unknown."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][skip:]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input {i}" for i in range(count)]


class _Run:
    """Shared state: the float64 copies (``arrays``), which positions are checked, g, the analytic grads."""

    label: str
    checked: list[int]
    names: list[str]
    arrays: list[Any]
    grads: list[Any]
    upstream: Any

    def output(self) -> Any:  # the raw output array for the current values of ``arrays``
        raise NotImplementedError

    def prepare(self, seed: int) -> str:  # run forward and backward once; "" or a problem
        raise NotImplementedError

    def _draw_upstream(self, out: Any, seed: int) -> str:
        if not _float_array(out):
            return f"the output must be a float array, got {type(out).__name__} {getattr(out, 'dtype', '')}".strip()
        if out.dtype != np.float64:
            return (f"float64 inputs gave a {out.dtype} output: keep the input's dtype (no astype to float32), "
                    "gradcheck needs float64 all the way")
        xp = get_array_module(out)
        self.upstream = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
        return ""


class _KernelPair(_Run):
    def __init__(self, forward: Callable[..., Any], backward: Callable[..., Any], inputs: Sequence[Any],
                 options: dict[str, Any]) -> None:
        self.forward, self.backward, self.options = forward, backward, options
        self.label = f"{getattr(forward, '__name__', 'forward')}/{getattr(backward, '__name__', 'backward')}"
        raw = [a.data if isinstance(a, Tensor) else a for a in inputs]
        self.checked = [i for i, a in enumerate(raw) if _float_array(a)]
        self.arrays = [a.astype(np.float64, copy=True) if i in self.checked else a for i, a in enumerate(raw)]
        all_names = _names(forward, 0, len(raw))
        self.names = [all_names[i] for i in self.checked]

    def _call(self) -> tuple[Any, Any]:
        returned = self.forward(*self.arrays, **self.options)
        if not (isinstance(returned, tuple) and len(returned) == 2):
            raise GradcheckError(f"gradcheck {self.label}: forward must return (out, cache), got "
                                 f"{type(returned).__name__}")
        return returned

    def output(self) -> Any:
        return self._call()[0]

    def prepare(self, seed: int) -> str:
        if not self.checked:
            return "no float array among the inputs: nothing to check"
        pristine = [self.arrays[i].copy() for i in self.checked]
        out, cache = self._call()
        problem = self._draw_upstream(out, seed)
        if problem:
            return problem
        grads = self.backward(self.upstream.copy(), cache)
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        if len(grads) < len(self.checked) or any(g is not None for g in grads[len(self.checked):]):
            return (f"backward returned {len(grads)} gradient(s) for the {len(self.checked)} float input(s) "
                    f"{', '.join(self.names)}: return one per float input, in order")
        self.grads = grads[:len(self.checked)]
        for name, i, before in zip(self.names, self.checked, pristine):
            if not get_array_module(before).array_equal(before, self.arrays[i]):
                return f"the kernels changed their input {name} in place: work on a copy (x = x + 1, not x += 1)"
        return ""


class _TensorFunction(_Run):
    def __init__(self, call: Callable[..., Any], signature_of: Callable[..., Any], label: str,
                 inputs: Sequence[Any], options: dict[str, Any]) -> None:
        self.call, self.options, self.label = call, options, label
        self.values: list[Any] = []
        self.checked = []
        for i, a in enumerate(inputs):
            if isinstance(a, Tensor) and a.dtype == np.float64 and a.requires_grad:
                # perturbed in place (and restored): a function that reads it through a closure, such as
                # a module's own parameter, sees every change
                self.checked.append(i)
                self.values.append(a)
            elif isinstance(a, Tensor) and a.dtype.kind == "f" and a.requires_grad:
                self.checked.append(i)
                self.values.append(Tensor(a.data.astype(np.float64), dtype="float64", requires_grad=True))
            elif not isinstance(a, Tensor) and _float_array(a):
                self.checked.append(i)
                self.values.append(Tensor(a, dtype="float64", requires_grad=True))
            else:
                self.values.append(a)
        self.arrays = [v.data if i in self.checked else v for i, v in enumerate(self.values)]
        skip = 1 if signature_of is not call else 0  # Function.forward(ctx, ...)
        all_names = _names(signature_of, skip, len(self.values))
        self.names = [all_names[i] for i in self.checked]

    def output(self) -> Any:
        with autograd.no_grad():
            out = self.call(*self.values, **self.options)
        return getattr(out, "data", out)

    def prepare(self, seed: int) -> str:
        if not self.checked:
            return "no float input that requires grad: nothing to check"
        out = self.call(*self.values, **self.options)
        if not isinstance(out, Tensor):
            return f"the function must return a tensor, got {type(out).__name__}"
        problem = self._draw_upstream(out.data, seed)
        if problem:
            return problem
        if not out.requires_grad:
            return "the output does not require grad: the function cut the graph (.data, .numpy(), no_grad?)"
        saved = [self.values[i].grad for i in self.checked]
        for i in self.checked:
            self.values[i].grad = None
        try:
            out.backward(gradient=Tensor._wrap(self.upstream))
            self.grads = [None if self.values[i].grad is None else self.values[i].grad.data for i in self.checked]
        finally:  # the caller's tensors keep the .grad they had
            for i, grad in zip(self.checked, saved):
                self.values[i].grad = grad
        return ""


# ----- the comparison -----

def _compare(run: _Run, k: int, eps: float, atol: float, rtol: float) -> InputCheck:
    """Central differences over every element of checked input ``k`` against its analytic gradient."""
    position = run.checked[k]
    x = run.arrays[position]
    name, shape = run.names[k], tuple(x.shape)
    analytic = run.grads[k]
    if analytic is None:
        return InputCheck(name, shape, False, problem="got no gradient (None)")
    if tuple(analytic.shape) != shape:
        return InputCheck(name, shape, False, problem=f"its gradient has shape {tuple(analytic.shape)}, "
                                                       f"not the input's {shape}")
    xp = get_array_module(x)
    g = run.upstream
    numeric = xp.zeros(shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing it perturbs the input the function reads
    for i in range(flat.size):
        original = flat[i].item()
        flat[i] = original + eps
        plus = run.output().copy()  # a copy: the output may be a view of the input (reshape, indexing)
        flat[i] = original - eps
        minus = run.output().copy()
        flat[i] = original
        # difference the outputs first, then weight: no rounding noise from outputs x_i never touches
        numeric.reshape(-1)[i] = ((plus - minus) * g).sum() / (2 * eps)
    analytic = xp.asarray(analytic, dtype=np.float64)
    error = xp.abs(analytic - numeric)
    ratio = error / (atol + rtol * xp.abs(numeric))
    worst = int(ratio.argmax()) if ratio.size else 0
    if not ratio.size:
        return InputCheck(name, shape, True)
    index = tuple(int(i) for i in np.unravel_index(worst, shape))
    a, n, e = analytic[index].item(), numeric[index].item(), error[index].item()
    ok = bool((ratio <= 1.0).all()) and bool(xp.isfinite(analytic).all())
    rel = e / max(abs(a), abs(n), 1e-300)
    return InputCheck(name, shape, ok, index, a, n, e, rel)
