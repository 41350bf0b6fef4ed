"""``summary(model, input_shape)``: a layer-by-layer table of shapes, parameters, activations and MACs.

One forward pass on zeros, under ``no_grad`` and in eval mode (each module's
mode is restored afterwards), records every *leaf* layer (a module without
children) in the order it runs. Per image (the batch axis is dropped):

* output shape, e.g. (64, 224, 224) for VGG16's first conv, printed 64×224×224;
* ``params``: the layer's own parameters, biases included — a conv has
  (F·F·C_in/groups + 1)·C_out, a linear layer (in + 1)·out;
* ``weights``: the same without biases, (F·F·C_in/groups)·C_out — the count the
  lecture's VGG16 table gives (``(3x3x3)x64 = 1,728``);
* ``activations``: the number of output values, C·H'·W' with
  H' = (H - F + 2P)/S + 1;
* ``macs``: multiply-accumulates. Conv: H'·W'·C_out·(KH·KW·C_in/groups);
  linear: in·out. Everything else counts 0 — pooling, ReLU, batch norm,
  the residual additions are elementwise, cheap next to the convolutions
  (well under 1 % of the MACs), and left out as in the papers' FLOP counts.

Totals: ``total_params`` and ``total_weights`` count each parameter of the
model once. ``total_activations`` follows the lecture table: the input plus
every layer's output, except the layers it folds into the one before — the
elementwise activations, Dropout and Identity (computed in place) and Flatten
(a view). ``all_activations`` counts every output as minigrad, which keeps each
one for backward, actually stores them. Memory is in MB = 10⁶ bytes at the
dtype's size (4 bytes for float32); backward needs about as much again for the
gradients (×2), and training keeps gradients (SGD ×2) or also Adam's two
moments (×4) per parameter.

``execute=False`` skips the arithmetic of conv, linear and pooling layers: their
output shape comes from the formula and zeros are passed on, so VGG16 at
224×224 takes milliseconds instead of seconds. The numbers are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import dtypes
from .autograd import no_grad
from .creation import zeros
from .nn import AvgPool2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, Sigmoid, Tanh
from .nn.conv import _ConvNd
from .tensor import Tensor

__all__ = ["FOLDED_TYPES", "LayerRow", "Summary", "leaf_modules", "summary", "wrap_leaf_forwards"]

#: layers whose output the lecture tables fold into the layer before (elementwise or a view)
FOLDED_TYPES: tuple[type[Module], ...] = (ReLU, Sigmoid, Tanh, Dropout, Identity, Flatten)
_ELEMENTWISE: tuple[type[Module], ...] = (ReLU, Sigmoid, Tanh, Dropout, Identity)


@dataclass
class LayerRow:
    """One call of one leaf layer; shapes and counts are per image."""

    index: int
    name: str
    type: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    weights: int
    activations: int
    macs: int
    detail: str = ""
    folded: bool = False


@dataclass
class Summary:
    """The result of :func:`summary`: ``rows`` per layer call, and totals. ``print()`` it for a table."""

    model_name: str
    input_shape: tuple[int, ...]
    batch_size: int
    dtype: np.dtype
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    total_weights: int = 0

    @property
    def input_activations(self) -> int:
        return math.prod(self.input_shape)

    @property
    def total_activations(self) -> int:
        """Input plus every layer output per image, folded layers (ReLU, Flatten ...) not counted again."""
        return self.input_activations + sum(r.activations for r in self.rows if not r.folded)

    @property
    def all_activations(self) -> int:
        """Input plus every leaf layer's output per image, folded layers included."""
        return self.input_activations + sum(r.activations for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_biases(self) -> int:
        return self.total_params - self.total_weights

    @property
    def bytes_per_value(self) -> int:
        return self.dtype.itemsize

    @property
    def activation_mb(self) -> float:
        """``total_activations`` per image in MB (10⁶ bytes) at ``dtype``; about ×2 with backward."""
        return self.total_activations * self.bytes_per_value / 1e6

    @property
    def param_mb(self) -> float:
        """``total_params`` in MB (10⁶ bytes) at ``dtype``."""
        return self.total_params * self.bytes_per_value / 1e6

    def __str__(self) -> str:
        header = ("#", "layer", "type", "output C×H×W", "weights", "params", "activations", "MACs", "detail")
        table = [header, ("", "input", "", _shape_text(self.input_shape), "", "",
                          f"{self.input_activations:,}", "", "")]
        for r in self.rows:
            acts = f"({r.activations:,})" if r.folded else f"{r.activations:,}"
            table.append((str(r.index), r.name, r.type, _shape_text(r.output_shape), f"{r.weights:,}",
                          f"{r.params:,}", acts, f"{r.macs:,}", r.detail))
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        right = {0, 4, 5, 6, 7}
        lines = [f"{self.model_name}: input {_shape_text(self.input_shape)} ({self.dtype}), "
                 f"counts per image"]
        for n, row in enumerate(table):
            cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
            if n == 0:
                lines.append("-" * len(lines[-1]))
        size = self.bytes_per_value
        lines += [
            "-" * max(len(line) for line in lines[1:3]),
            f"parameters   {self.total_params:,} = {self.total_weights:,} weights + "
            f"{self.total_biases:,} biases ({self.trainable_params:,} trainable)",
            f"             {_mb(self.param_mb)} at {size} bytes each "
            f"(x2 with gradients for plain SGD, x4 for Adam)",
            f"activations  {self.total_activations:,} per image = {_mb(self.activation_mb)} at {size} bytes "
            f"(forward only; x2 for backward)",
            f"             values in (parentheses) are folded into the layer before; with them "
            f"{self.all_activations:,} = {_mb(self.all_activations * size / 1e6)}",
            f"MACs         {self.total_macs:,} per image ({_si(self.total_macs)} multiply-accumulates)",
        ]
        return "\n".join(lines)


def _mb(value: float) -> str:
    return f"{value:,.1f} MB" if value >= 10 else f"{value:.3g} MB"


def _si(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:g}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape) if shape else "scalar"


def _has_children(module: Module) -> bool:
    return any(True for _ in module.children())


def leaf_modules(model: Module) -> list[tuple[str, Module]]:
    """(dotted name, module) of every module without children, each module once, in registration order."""
    seen: set[int] = set()
    leaves = []
    for name, module in model.named_modules():
        if not _has_children(module) and id(module) not in seen:
            seen.add(id(module))
            leaves.append((name or type(module).__name__.lower(), module))
    return leaves


Callback = Callable[[str, Module, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]


@contextmanager
def wrap_leaf_forwards(model: Module, callback: Callback) -> Iterator[None]:
    """Inside the block, calling a leaf layer calls ``callback(name, module, forward, args, kwargs)``.

    The callback returns the layer's output (usually ``forward(*args, **kwargs)``).
    The wrapper is an instance attribute shadowing ``forward``; it is removed on
    exit, even after an error, so the modules are left exactly as they were.
    """
    saved: list[tuple[Module, bool, Any]] = []
    try:
        for name, module in leaf_modules(model):
            had = "forward" in module.__dict__
            original = module.forward

            def wrapper(*args: Any, _name: str = name, _module: Module = module,
                        _forward: Callable[..., Any] = original, **kwargs: Any) -> Any:
                return callback(_name, _module, _forward, args, kwargs)

            saved.append((module, had, module.__dict__.get("forward")))
            object.__setattr__(module, "forward", wrapper)
        yield
    finally:
        for module, had, previous in reversed(saved):
            if had:
                object.__setattr__(module, "forward", previous)
            else:
                object.__delattr__(module, "forward")


def _shape_only(module: Module, forward: Callable[..., Any], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """The layer's output without its arithmetic: zeros of the right shape for conv/linear/pool layers."""
    x = args[0] if args else None
    if not isinstance(x, Tensor) or len(args) != 1 or kwargs:
        return forward(*args, **kwargs)
    if isinstance(module, _ELEMENTWISE):
        return x  # shape-preserving; the values do not matter here
    if not hasattr(module, "output_shape"):  # the layers that know their shape: conv, linear, pooling
        return forward(*args, **kwargs)
    return zeros(module.output_shape(x.shape), dtype=x.dtype, device=x.device)


def _pair_text(values: Any) -> str:
    values = tuple(values) if not isinstance(values, (int, str)) else (values,)
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _detail(module: Module) -> str:
    if isinstance(module, (_ConvNd, MaxPool2d, AvgPool2d)):
        k = "×".join(map(str, module.kernel_size))
        text = f"{k} s{_pair_text(module.stride)} p{_pair_text(module.padding)}"
        groups = getattr(module, "groups", 1)
        return text + (f" g{groups}" if groups != 1 else "")
    if isinstance(module, Linear):
        return f"{module.in_features}→{module.out_features}"
    if isinstance(module, Dropout):
        return f"p={module.p}"
    return ""


def _macs(module: Module, out_per_image: int) -> int:
    if isinstance(module, _ConvNd):
        return out_per_image * module.in_channels // module.groups * math.prod(module.kernel_size)
    if isinstance(module, Linear):
        return out_per_image * module.in_features
    return 0


def _per_image(shape: tuple[int, ...], batch_size: int) -> tuple[int, ...]:
    return shape[1:] if shape and shape[0] == batch_size else shape


def summary(model: Module, input_shape: tuple[int, ...], batch_size: int = 1, dtype: Any = dtypes.float32,
            execute: bool = True) -> Summary:
    """Run ``model`` once on zeros of shape ``(batch_size, *input_shape)`` and tabulate its leaf layers.

    ``input_shape`` is one image, e.g. ``(3, 224, 224)``. Counts are per image
    (see the module docstring for the conventions). With ``execute=False`` the
    conv, linear and pooling layers are not computed, only their output shapes.
    The model's train/eval modes and its layers are left as they were.
    """
    input_shape = tuple(int(n) for n in input_shape)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive int, got {batch_size!r}")
    dtype = dtypes.resolve_dtype(dtype)
    params = list(model.parameters())
    device = params[0].device if params else None
    result = Summary(getattr(model, "name", "") or type(model).__name__, input_shape, batch_size, dtype,
                     total_params=sum(p.size for p in params),
                     trainable_params=sum(p.size for p in params if p.requires_grad),
                     total_weights=sum(p.size for n, p in model.named_parameters()
                                       if n.rsplit(".", 1)[-1] != "bias"))

    def record(name: str, module: Module, forward: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
        out = forward(*args, **kwargs) if execute else _shape_only(module, forward, args, kwargs)
        x = args[0] if args and isinstance(args[0], Tensor) else None
        in_shape = _per_image(x.shape, batch_size) if x is not None else ()
        out_shape = _per_image(out.shape, batch_size) if isinstance(out, Tensor) else ()
        acts = math.prod(out_shape) if isinstance(out, Tensor) else 0
        own = [(n, p) for n, p in module._parameters.items() if p is not None]
        result.rows.append(LayerRow(
            index=len(result.rows) + 1, name=name, type=type(module).__name__, input_shape=in_shape,
            output_shape=out_shape, params=sum(p.size for _, p in own),
            weights=sum(p.size for n, p in own if n != "bias"), activations=acts,
            macs=_macs(module, acts), detail=_detail(module), folded=isinstance(module, FOLDED_TYPES)))
        return out

    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad(), wrap_leaf_forwards(model, record):
            model(zeros((batch_size, *input_shape), dtype=dtype, device=device))
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)
    return result
