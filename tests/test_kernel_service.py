"""The reference kernels the judge computes for a runner (the residual block's tests): values, limits, leaks.

A probe submission's ``residual.py`` calls the runner's ``judge_kernels`` stand-ins the way a student's
block does through minigrad, and also what a hostile one might: kernels of other exercises, arguments
the reference refuses, thousands of caches, a call too big for the test's deadline.
"""

from __future__ import annotations

import shutil
import textwrap

import numpy as np
import pytest
from leaks import leaked
from runner_probe import judge_folder

from grader.jail import sandbox
from grader.jail.kernel_service import KernelService
from grader.jail.proxy import DEFAULT_LIMITS, RunnerProxy, RunnerTimeout, StudentError
from grader.jail.staging import build_stage, runtime_mounts, runtime_path
from solutions import conv as reference_conv

PROBE = """
import numpy as np
import _grader_kernels
from judge_kernels import conv, relu


def conv_round_trip(x, w, b):
    out, cache = conv.conv2d_forward(x, w, b, stride=(2, 1), padding=1)
    dx, dw, db = conv.conv2d_backward(np.ones_like(out), cache)
    return out, dx, dw, db, type(cache).__name__


def first_layer(x, w):
    out, cache = conv.conv2d_forward(x, w, None)
    return conv.conv2d_backward(np.ones_like(out), cache, needs_input_grad=(False, True, False))


def through_minigrad(x):
    import minigrad
    from minigrad import nn

    minigrad.manual_seed(0)
    layer = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    t = minigrad.tensor(x, requires_grad=True)
    layer(t).sum().backward()
    return t.grad.numpy(), minigrad.kernels.active_kernels()


def other_kernel(name, *args):
    return _grader_kernels._call(name, args, {})


def refused():
    return conv.conv2d_forward(np.zeros(3), np.zeros((1, 1, 1, 1)))


def _tiny_conv():
    return conv.conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)))


def hoard(n):
    kept = [_tiny_conv()[1] for _ in range(n)]
    return len(kept)


def churn(n):
    for _ in range(n):
        _tiny_conv()
    return n


def slow():
    x = np.ones((8, 64, 64, 64))  # 16 MB in, billions of multiply-adds for the reference
    return conv.conv2d_forward(x, np.ones((64, 64, 7, 7)))[0].shape
"""


@pytest.fixture
def residual_runner(tmp_path):
    """A runner of the residual block in this machine's tier, its kernel source computed by the judge."""
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "residual.py").write_text(textwrap.dedent(PROBE))
    root = judge_folder(sandbox.for_judge())
    stage = build_stage(root, tmp_path / "submission", "residual")
    env = {"GRADER_RUNTIME_PATH": runtime_path(root), "MINIGRAD_KERNELS": "judge_kernels"}
    limits = {**DEFAULT_LIMITS, "address_space": 2 << 30}
    proxy = RunnerProxy(stage, root / "scratch-residual", limits, env, read_only=runtime_mounts(root),
                        kernels=KernelService(("relu", "conv"), limits, max_caches=40))
    proxy.start()
    yield proxy
    proxy.close()
    shutil.rmtree(root.parent, ignore_errors=True)


def call(proxy, function, *args, timeout=30.0):
    return proxy.call("residual", function, args, {}, timeout)


def test_a_runner_gets_the_reference_values_and_its_caches_stay_with_the_judge(residual_runner):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 7, 6), (4, 3, 3, 3), (4,)))
    out, dx, dw, db, cache_type = call(residual_runner, "conv_round_trip", x, w, b)
    ref_out, ref_cache = reference_conv.conv2d_forward(x, w, b, stride=(2, 1), padding=1)
    ref_grads = reference_conv.conv2d_backward(np.ones_like(ref_out), ref_cache)
    assert out.dtype == np.float32 and out.shape == ref_out.shape
    for got, want in zip((out, dx, dw, db), (ref_out, *ref_grads)):
        np.testing.assert_array_equal(got, want)  # the same code on the same bytes: exactly equal
    assert cache_type == "RemoteCache"


def test_needs_input_grad_reaches_the_reference(residual_runner):
    x, w = np.ones((1, 2, 4, 4), np.float32), np.ones((3, 2, 3, 3), np.float32)
    dx, dw, db = call(residual_runner, "first_layer", x, w)
    assert dx is None and db is None and dw.shape == w.shape


def test_minigrad_layers_in_the_runner_use_the_judges_kernels(residual_runner):
    import minigrad
    from minigrad import nn

    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5)).astype(np.float32)
    dx, active = call(residual_runner, "through_minigrad", x)
    minigrad.manual_seed(0)  # the same layer here, on the reference kernels themselves
    layer = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    t = minigrad.tensor(x, requires_grad=True)
    layer(t).sum().backward()
    assert active == "judge_kernels" and dx.dtype == np.float32
    np.testing.assert_array_equal(dx, t.grad.numpy())


@pytest.mark.parametrize("name", ["maxpool2d_forward", "softmax_cross_entropy_forward", "ResidualBlock",
                                  "conv_output_size", "__import__"])
def test_only_this_exercises_kernels_can_be_called(residual_runner, name):
    with pytest.raises(StudentError) as err:
        call(residual_runner, "other_kernel", name, np.ones((1, 1, 2, 2)), 2)
    assert err.value.type_name == "ValueError" and "no reference kernel" in err.value.message


def test_a_refused_call_brings_back_the_message_and_no_reference_source(residual_runner):
    with pytest.raises(StudentError) as err:
        call(residual_runner, "refused")
    assert err.value.type_name == "ValueError" and err.value.message.startswith("conv2d_forward: ")
    assert "solutions" not in err.value.traceback and leaked([err.value.message, err.value.traceback], 20) == []
    assert call(residual_runner, "churn", 3) == 3  # and the kernels go on


def test_dropped_caches_are_released_and_hoarding_them_is_bounded(residual_runner):
    assert call(residual_runner, "churn", 100) == 100  # more than the 40 allowed here, all dropped
    with pytest.raises(StudentError) as err:
        call(residual_runner, "hoard", 60)
    assert err.value.type_name == "MemoryError" and "caches" in err.value.message


def test_a_kernel_call_past_the_deadline_stops_the_runner_and_the_kernel_process(residual_runner):
    first = residual_runner.kernels.process
    with pytest.raises(RunnerTimeout, match="no answer within"):
        call(residual_runner, "slow", timeout=2.0)
    assert not residual_runner.alive and residual_runner.kernels.process is None and first.poll() is not None
    assert call(residual_runner, "churn", 2) == 2  # a fresh runner and kernel process
    assert residual_runner.kernels.process is not first


def test_a_runner_without_the_kernel_process_is_told_so(residual_runner):
    residual_runner.kernels.process.kill()
    residual_runner.kernels.process.wait()
    assert call(residual_runner, "churn", 1) == 1  # the judge noticed, and started both afresh
