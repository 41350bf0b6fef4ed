"""Exercise 1 — ReLU, the activation of every convolution block: z = relu(w·x + b).

    forward:  out = max(0, x), elementwise
    backward: dx = dout where x > 0, else 0   (at exactly x = 0 the gradient is 0, by convention)

ReLU keeps convolution blocks from collapsing: convolutions are linear, and a stack of linear layers
is one linear layer. Zeroing negative responses also makes feature maps sparse.
"""

from __future__ import annotations

from typing import Any

from minigrad.backend import get_array_module


def relu_forward(x: Any) -> tuple[Any, Any]:
    """x: any shape, float32 or float64. Returns (out, cache), out = max(0, x) with x's shape and dtype.

    Hints: ``xp.where(condition, a, b)`` or ``xp.maximum``; keep in ``cache`` what backward needs
    (the mask x > 0 is enough). Never modify x in place, and never upcast float32 to float64.
    """
    xp = get_array_module(x)  # noqa: F841  (NumPy or CuPy: call xp.<function>, never np.<function>)
    raise NotImplementedError("exercise relu_forward: return (max(0, x), cache) in exercises/relu.py")


def relu_backward(dout: Any, cache: Any) -> Any:
    """dout: the gradient of the output (x's shape). Returns dx = dout where x > 0, else 0."""
    xp = get_array_module(dout)  # noqa: F841
    raise NotImplementedError("exercise relu_backward: return dout masked by x > 0 in exercises/relu.py")
