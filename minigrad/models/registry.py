"""Every model of the course by name: ``get_model("vgg16")`` and ``MODELS`` with expected input shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..nn import Module
from .alexnet import alexnet
from .convnet import keras_convnet, mlp
from .lenet import lenet5
from .resnet import resnet18, resnet34
from .vgg import vgg16

__all__ = ["MODELS", "ModelInfo", "get_model", "list_models"]


@dataclass(frozen=True)
class ModelInfo:
    """A model of the registry: how to build it, what one input image is, how many parameters it has.

    ``input_shape`` (C, H, W) and ``num_params`` are for the default arguments.
    """

    name: str
    builder: Callable[..., Module]
    input_shape: tuple[int, int, int]
    num_classes: int
    num_params: int
    description: str


MODELS: dict[str, ModelInfo] = {info.name: info for info in (
    ModelInfo("mlp", mlp, (1, 28, 28), 10, 235_146, "Flatten, 784-256-128-10 with ReLU"),
    ModelInfo("lenet5", lenet5, (1, 28, 28), 10, 61_706, "LeNet-5 of the lecture table (C1 'same' on 28×28)"),
    ModelInfo("convnet", keras_convnet, (1, 28, 28), 10, 824_970, "the Keras convnet of the notes"),
    ModelInfo("alexnet", alexnet, (3, 227, 227), 1000, 62_378_344, "AlexNet, single-GPU table, no LRN"),
    ModelInfo("vgg16", vgg16, (3, 224, 224), 1000, 138_357_544, "VGG16 (configuration D)"),
    ModelInfo("resnet18", resnet18, (3, 224, 224), 1000, 11_689_512, "ResNet-18, basic blocks [2, 2, 2, 2]"),
    ModelInfo("resnet34", resnet34, (3, 224, 224), 1000, 21_797_672, "ResNet-34, basic blocks [3, 4, 6, 3]"),
)}


def list_models() -> list[str]:
    """The registered model names."""
    return list(MODELS)


def get_model(name: str, **kwargs: Any) -> Module:
    """Build model ``name`` (see :data:`MODELS`); keyword arguments go to its builder.

        get_model("resnet18", num_classes=10, in_channels=1, small_input=True)
    """
    try:
        info = MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
    return info.builder(**kwargs)
