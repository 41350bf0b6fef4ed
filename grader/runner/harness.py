"""Runner-side drivers for exercises that are modules rather than functions.

The judge cannot hold a student's ``ResidualBlock``: it sends sizes, weights, an input and an upstream
gradient, and this code (copied into the runner as ``_grader_harness.py``) builds the block there,
loads the weights, runs forward and backward, and sends plain arrays back.
"""

from __future__ import annotations

from typing import Any


def residual_block(in_channels: int, out_channels: int, stride: int = 1, state: dict[str, Any] | None = None,
                   x: Any = None, dout: Any = None, training: bool = True) -> dict[str, Any]:
    """Build ``exercises.residual.ResidualBlock`` and report its structure and, given x, its outputs."""
    import minigrad
    from exercises.residual import ResidualBlock

    block = ResidualBlock(in_channels, out_channels, stride)
    report: dict[str, Any] = {
        "state_keys": list(block.state_dict()),
        "shapes": {k: list(v.shape) for k, v in block.state_dict().items()},
        "num_params": int(block.num_parameters()),
        "shortcut_is_none": getattr(block, "shortcut", "missing") is None,
    }
    if state is not None:
        block.load_state_dict(state)
    if x is None:
        return report
    block.train(bool(training))
    xt = minigrad.tensor(x, requires_grad=True)
    out = block(xt)
    report["out"] = out.numpy()
    if dout is not None:
        out.backward(minigrad.tensor(dout))
        report["dx"] = xt.grad.numpy()
        report["grads"] = {name: p.grad.numpy() for name, p in block.named_parameters() if p.grad is not None}
    report["state_after"] = dict(block.state_dict())
    return report
