"""Batch normalisation over the batch (and spatial) axes, per channel.

Training: y = γ·(x - μ_B)/√(σ²_B + ε) + β with the batch's mean and (biased)
variance, and running averages r ← (1 - m)·r + m·batch_stat updated for
evaluation (the running variance uses the unbiased batch variance, as PyTorch
does). Evaluation: the running averages replace the batch statistics.

The training backward is fused; with x̂ the normalised input and N values per
channel: dx = (1/σ)·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), dx̂ = dy·γ.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Context, Function
from ..creation import ones, zeros
from ..tensor import Tensor
from .module import Module, Parameter


def _channel_shape(ndim: int, channels: int) -> tuple[int, ...]:
    return (1, channels) + (1,) * (ndim - 2)


class BatchNormTrain(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, gamma: Any, beta: Any, mean: Any, var: Any, eps: float) -> Any:
        shape = _channel_shape(x.ndim, x.shape[1])
        inv_std = 1.0 / (var + eps) ** 0.5
        x_hat = (x - mean) * inv_std
        g = gamma.reshape(shape)
        ctx.save_for_backward(x_hat, inv_std, g)
        ctx.axes = (0, *range(2, x.ndim))
        return x_hat * g + beta.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Any) -> tuple[Any, ...]:
        x_hat, inv_std, g = ctx.saved_arrays
        axes = ctx.axes
        d_beta = grad.sum(axis=axes)
        d_gamma = (grad * x_hat).sum(axis=axes)
        d_xhat = grad * g
        dx = inv_std * (d_xhat - d_xhat.mean(axis=axes, keepdims=True)
                        - x_hat * (d_xhat * x_hat).mean(axis=axes, keepdims=True))
        return dx, d_gamma, d_beta, None, None, None


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor,
               bias: Tensor, training: bool, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise x (N, C, ...) per channel; see the module docstring for the formulas."""
    axes = (0, *range(2, x.ndim))
    shape = _channel_shape(x.ndim, x.shape[1])
    if training:
        data = x.data
        count = data.size // data.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        mean = data.mean(axis=axes, keepdims=True)
        var = data.var(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            unbiased = var * (count / (count - 1))
            # in the buffers' own dtype: a float64 batch must not turn float32 statistics into float64
            running_mean.data = ((1 - momentum) * running_mean.data
                                 + momentum * mean.reshape(-1)).astype(running_mean.dtype, copy=False)
            running_var.data = ((1 - momentum) * running_var.data
                                + momentum * unbiased.reshape(-1)).astype(running_var.dtype, copy=False)
        return BatchNormTrain.apply(x, weight, bias, mean, var, eps)
    scale = weight / ((running_var + eps) ** 0.5)
    shift = bias - running_mean * scale
    return x * scale.reshape(shape) + shift.reshape(shape)


class _BatchNorm(Module):
    expected_ndim: tuple[int, ...]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(ones(num_features))
        self.bias = Parameter(zeros(num_features))
        self.register_buffer("running_mean", zeros(num_features))
        self.register_buffer("running_var", ones(num_features))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.expected_ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"{' or '.join(str(n) for n in self.expected_ndim)} dims with "
                             f"{self.num_features} channels on axis 1, got {x.shape}")
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) features or (N, C, L) signals."""

    expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) feature maps: one γ, β per channel."""

    expected_ndim = (4,)
