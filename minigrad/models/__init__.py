"""The course's networks: MLP, LeNet-5, the Keras convnet, AlexNet, VGG and ResNet-18/34.

>>> from minigrad.models import get_model, MODELS
>>> net = get_model("convnet")              # input (N, 1, 28, 28) -> logits (N, 10)
>>> net.num_parameters()
824970

Every builder takes ``num_classes`` and ``in_channels``; layers have the
names of the lecture tables (``conv1``, ``pool1``, ``fc6`` ...), so
``minigrad.summary.summary(net, MODELS["convnet"].input_shape)`` prints a
table to check against the notes. See ``docs/networks.md``.
"""

from ._base import Network
from .alexnet import alexnet
from .convnet import keras_convnet, mlp
from .lenet import lenet5
from .registry import MODELS, ModelInfo, get_model, list_models
from .resnet import ResNet, resnet, resnet18, resnet34
from .vgg import VGG_CONFIGS, vgg, vgg11, vgg13, vgg16, vgg19

__all__ = [
    "MODELS", "ModelInfo", "Network", "ResNet", "VGG_CONFIGS", "alexnet", "get_model", "keras_convnet",
    "lenet5", "list_models", "mlp", "resnet", "resnet18", "resnet34", "vgg", "vgg11", "vgg13", "vgg16",
    "vgg19",
]
