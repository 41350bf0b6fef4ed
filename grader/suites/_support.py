"""What the suites share: calling the submission, expecting its errors, and the residual-block reference.

Judge side only (trusted): this module computes expected values from ``solutions`` (through
``grader.judge.reference``, which replays recorded values in a handout) and never reaches the runner.

Two kinds of test: *random* ones take the ``rng`` fixture (inputs change with ``--seed``), *fixed* ones
take no ``rng`` and draw from :func:`fixed_rng` (the same inputs at every seed). The deterministic,
adversarial cases are fixed: their verdict cannot depend on the seed, and ``grader selftest`` relies on
that (a mutant a fixed test kills is killed at every seed).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.jail.proxy import StudentError
from grader.judge.compare import (
    assert_array_matches,
    assert_inputs_unchanged,
    assert_result_pair,
    assert_result_tuple,
    describe,
    with_article,
)
from grader.judge.reference import recorded

__all__ = [
    "backward_triple", "check_each", "expect_error", "fixed_rng", "forward_pair", "matches", "random_residual_state",
    "reference_residual", "reference_residual_structure", "residual_report", "unchanged_call",
]


def fixed_rng(name: str) -> np.random.Generator:
    """A generator seeded from ``name`` alone, never from ``--seed``: the inputs of a fixed test."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def _name(fn: Any) -> str:
    return str(getattr(fn, "name", getattr(fn, "__name__", "the function")))


def forward_pair(fn: Any, *args: Any, hint: str | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """Call a student ``*_forward`` and check that it returned ``(out, cache)``."""
    __tracebackhide__ = True
    return assert_result_pair(_name(fn), fn(*args, **kwargs), hint=hint)


def backward_triple(fn: Any, dout: Any, cache: Any, names: Sequence[str] = ("dx", "dw", "db")) -> tuple[Any, ...]:
    """Call a student backward that returns several gradients and check the tuple's length."""
    __tracebackhide__ = True
    return assert_result_tuple(_name(fn), fn(dout, cache), names)


def unchanged_call(fn: Any, names: Sequence[str], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``, check that it left its positional array arguments unchanged, return its result.

    ``names`` names the positional arguments, in order, for the message ("x", "w" ...).
    """
    __tracebackhide__ = True
    result, after = fn.with_inputs(*args, **kwargs)
    assert_inputs_unchanged(_name(fn), names, args, after)
    return result


def expect_error(fn: Any, *args: Any, error: str | tuple[str, ...] = "ValueError", mention: str | None = None,
                 what: str = "", **kwargs: Any) -> None:
    """Call ``fn`` and require it to raise ``error`` (by name), its message mentioning ``mention``."""
    __tracebackhide__ = True
    allowed = (error,) if isinstance(error, str) else tuple(error)
    wanted = " or ".join(allowed)
    call = f"{_name(fn)}({what})" if what else _name(fn)
    try:
        result = fn(*args, **kwargs)
    except StudentError as err:
        if err.not_implemented:
            raise
        if err.type_name not in allowed:
            raise AssertionError(f"{call} raised {err.type_name}, expected {wanted}") from None
        if mention and mention.lower() not in err.message.lower():
            raise AssertionError(f"{call} raised {err.type_name} but its message does not mention "
                                 f"{mention!r}: {err.message[:200]!r}") from None
        return
    raise AssertionError(f"{call} returned {with_article(describe(result))} instead of raising {wanted}")


# ----- the residual block -----

def _reference_block(in_channels: int, out_channels: int, stride: int) -> Any:
    import minigrad
    from solutions.residual import ResidualBlock

    minigrad.use_kernels("solutions")
    return ResidualBlock(in_channels, out_channels, stride)


def random_residual_state(rng: np.random.Generator, in_channels: int, out_channels: int,
                          stride: int) -> dict[str, np.ndarray]:
    """Weights and running statistics for a block, drawn from ``rng``, keyed like its state_dict."""
    state = {}
    for key, shape in reference_residual_structure(in_channels, out_channels, stride)["shapes"].items():
        shape = tuple(shape)
        if key.endswith("running_var"):
            array = rng.uniform(0.5, 1.5, shape)
        elif key.endswith("running_mean") or key.endswith(".bias"):
            array = 0.2 * rng.standard_normal(shape)
        elif len(shape) == 1:  # batch-norm γ
            array = rng.uniform(0.5, 1.5, shape)
        else:  # convolution weights, He-scaled
            array = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        state[key] = array.astype(np.float32)
    return state


@recorded("residual.structure")
def reference_residual_structure(in_channels: int, out_channels: int, stride: int) -> dict[str, Any]:
    """The reference block's state_dict keys, their shapes and its parameter count."""
    block = _reference_block(in_channels, out_channels, stride)
    state = block.state_dict()
    return {"state_keys": list(state), "shapes": {k: list(v.shape) for k, v in state.items()},
            "num_params": int(block.num_parameters())}


@recorded("residual.block")
def reference_residual(in_channels: int, out_channels: int, stride: int, state: dict[str, np.ndarray],
                       x: np.ndarray, dout: np.ndarray | None, training: bool) -> dict[str, Any]:
    """What the reference block computes with these weights: out, dx, grads and state_after."""
    import minigrad

    block = _reference_block(in_channels, out_channels, stride)
    block.load_state_dict(state)
    block.train(training)
    xt = minigrad.tensor(x, requires_grad=True)
    out = block(xt)
    report: dict[str, Any] = {"out": out.numpy()}
    if dout is not None:
        out.backward(minigrad.tensor(dout))
        report["dx"] = xt.grad.numpy()
        report["grads"] = {name: p.grad.numpy() for name, p in block.named_parameters()}
    report["state_after"] = dict(block.state_dict())
    return report


def residual_report(student: Any, required: Sequence[str] = (), **kwargs: Any) -> dict[str, Any]:
    """Run the runner's residual-block harness and check that its report holds ``required`` keys."""
    __tracebackhide__ = True
    report = student.harness("residual_block", **kwargs)
    if type(report) is not dict:
        raise AssertionError(f"the residual-block harness returned {with_article(describe(report))}")
    missing = [k for k in required if k not in report]
    if missing:
        raise AssertionError(f"the residual-block harness reported no {', '.join(missing)}")
    return report


def check_each(checks: Sequence[tuple[str, Callable[[], None]]], credit: Any = None) -> None:
    """Run several named checks; give credit for the share that pass and report every failure."""
    __tracebackhide__ = True
    failures = []
    for _, check in checks:
        try:
            check()
        except AssertionError as err:
            failures.append(str(err).split("\n")[0])
    if credit is not None and checks:
        credit.fraction((len(checks) - len(failures)) / len(checks))
    if failures:
        raise AssertionError("; ".join(failures) if len(failures) <= 2
                             else f"{failures[0]}; {failures[1]}; and {len(failures) - 2} more")


def matches(name: str, got: Any, expected: Any, **kwargs: Any) -> Callable[[], None]:
    """A deferred :func:`assert_array_matches`, for :func:`check_each`."""
    return lambda: assert_array_matches(name, got, expected, **kwargs)
