"""Neural-network layers, containers and losses built on minigrad's autograd."""

from . import functional, init
from .container import ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .layers import Dropout, Flatten, GlobalAvgPool2d, Identity, Linear, ReLU, Sigmoid, Tanh
from .loss import CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AvgPool2d, MaxPool2d

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten",
    "GlobalAvgPool2d", "Identity", "Linear", "MSELoss", "MaxPool2d", "Module", "ModuleList", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "init",
]
