"""``Module`` and ``Parameter``: the containers every layer and network is built from.

A module's tensors that training changes are ``Parameter``s; tensors it keeps
but does not train (BatchNorm's running statistics) are *buffers*. Both are
found by walking child modules, which gives ``parameters()``, ``state_dict()``
and ``to(device)`` for any network made of modules.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import backend, dtypes
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a module trains: ``requires_grad`` is on, float32 unless given float64."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=False)
        if not dtypes.is_floating(self.dtype):
            self.data = self.data.astype(dtypes.float32)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter " + super().__repr__()


class Module:
    """Base class of layers and networks: subclass it, set layers as attributes, write ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration -----
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before setting attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            # `self.running_mean = new_tensor` replaces the buffer; it stays in state_dict() and to()
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r} "
                                "(a Tensor or None expected)")
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        keep = (self._parameters if isinstance(value, Parameter)
                else self._modules if isinstance(value, Module) else None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        if keep is not None:
            keep[name] = value  # an existing name keeps its place: state_dict() order does not change
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep ``tensor`` in ``state_dict`` and move it with ``to()``, without training it."""
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    def register_module(self, name: str, module: Module | None) -> None:
        if module is None:
            object.__setattr__(self, name, None)
            self._modules[name] = None
        else:
            setattr(self, name, module)

    # ----- traversal -----
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    def buffers(self) -> Iterator[Tensor]:
        for _, buf in self.named_buffers():
            yield buf

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def requires_grad_(self, flag: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(flag)
        return self

    # ----- devices and dtypes -----
    def _convert(self, fn: Any) -> Module:
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is not None:
                        tensor.data = fn(tensor.data)
                        if tensor.grad is not None:
                            tensor.grad.data = fn(tensor.grad.data)
        return self

    def to(self, device: str) -> Module:
        """Move every parameter and buffer to ``device``, in place; returns the module."""
        target = backend.normalize_device(device)
        backend.array_module(target)
        return self._convert(lambda a: backend.to_device(a, target))

    def double(self) -> Module:
        return self._convert(lambda a: a.astype(dtypes.float64) if a.dtype.kind == "f" else a)

    def float(self) -> Module:
        return self._convert(lambda a: a.astype(dtypes.float32) if a.dtype.kind == "f" else a)

    # ----- state -----
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter and buffer by dotted name, as host NumPy copies."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, param in self.named_parameters():
            state[name] = param.numpy()
        for name, buf in self.named_buffers():
            state[name] = buf.numpy()
        return state

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy ``state`` into this module's parameters and buffers.

        Every key must name a tensor of this module and match its shape; with
        ``strict`` every tensor must be given. Values keep this module's dtype
        and device. Nothing is changed unless everything fits.
        """
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict: {'; '.join(parts)}")
        updates = []
        for key, value in state.items():
            if key not in own:
                continue
            target = own[key]
            array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if tuple(array.shape) != target.shape:
                raise ValueError(f"load_state_dict: {key} has shape {tuple(array.shape)}, "
                                 f"this module expects {target.shape}")
            if array.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict: {key} holds {array.dtype} values, expected numbers")
            updates.append((target, array))
        for target, array in updates:
            target.data = backend.to_device(array.astype(target.dtype, copy=True), target.device)
            target._version += 1

    # ----- calling and printing -----
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"
