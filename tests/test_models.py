"""The course's networks: exact parameter counts, layer structure, forward shapes, the registry."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.kernels import override_kernels
from minigrad.models import (
    MODELS,
    VGG_CONFIGS,
    Network,
    ResNet,
    alexnet,
    get_model,
    keras_convnet,
    lenet5,
    list_models,
    mlp,
    resnet18,
    resnet34,
    vgg,
    vgg16,
)


def x(*shape: int) -> minigrad.Tensor:
    return minigrad.tensor(np.random.default_rng(0).random(shape, dtype=np.float32))


EXPECTED_PARAMS = {
    "mlp": 235_146,
    "lenet5": 61_706,
    "convnet": 824_970,
    "alexnet": 62_378_344,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
}


# ----- parameter counts -----
@pytest.mark.parametrize("name", list(EXPECTED_PARAMS))
def test_parameter_counts_exact(name, fast_init):
    model = get_model(name)
    assert model.num_parameters() == EXPECTED_PARAMS[name] == MODELS[name].num_params


def test_lenet_table_by_hand():
    """The lecture's LeNet table: units, connections and weights (no biases), recomputed and matched."""
    # C1: 6 maps 5×5 on 28×28 with "same" padding; C3: 16 maps 5×5 on 14×14 (valid), all 6 inputs
    c1_units, c1_conn, c1_w = 6 * 28 * 28, 28 * 28 * 5 * 5 * 6, 5 * 5 * 6
    s2_units, s2_conn = 6 * 14 * 14, 6 * 28 * 28
    c3_units, c3_conn, c3_w = 16 * 10 * 10, 16 * 10 * 10 * 5 * 5 * 6, 5 * 5 * 6 * 16
    s4_units, s4_conn = 16 * 5 * 5, 16 * 10 * 10
    assert (c1_units, c1_conn, c1_w) == (4704, 117_600, 150)
    assert (s2_units, s2_conn) == (1176, 4704)
    assert (c3_units, c3_conn, c3_w) == (1600, 240_000, 2400)
    assert (s4_units, s4_conn) == (400, 1600)
    assert (400 * 120, 120 * 84, 84 * 10) == (48_000, 10_080, 840)

    net = lenet5()
    weights = {name: net[name].weight.size for name in ("c1", "c3", "f5", "f6", "output")}
    assert weights == {"c1": 150, "c3": 2400, "f5": 48_000, "f6": 10_080, "output": 840}
    assert sum(weights.values()) == 61_470
    biases = sum(p.size for n, p in net.named_parameters() if n.endswith("bias"))
    assert biases == 6 + 16 + 120 + 84 + 10 == 236
    assert net.num_parameters() == 61_470 + 236 == 61_706


def test_conv_parameter_formula():
    """(F·F·C_in + 1)·C_out per conv; in·out + out per linear layer."""
    net = keras_convnet()
    assert net.conv1.weight.size + net.conv1.bias.size == (5 * 5 * 1 + 1) * 32 == 832
    assert net.conv2.weight.size + net.conv2.bias.size == (3 * 3 * 32 + 1) * 64 == 18_496
    assert net.fc1.weight.size + net.fc1.bias.size == (7 * 7 * 64 + 1) * 256 == 803_072
    assert net.fc2.weight.size + net.fc2.bias.size == (256 + 1) * 10 == 2_570
    assert 832 + 18_496 + 803_072 + 2_570 == 824_970


def test_alexnet_layers_and_groups(fast_init):
    net = alexnet()
    assert net.conv1.weight.size + net.conv1.bias.size == 34_944  # the lecture's first-layer count
    channels = [net[n].out_channels for n in ("conv1", "conv2", "conv3", "conv4", "conv5")]
    assert channels == [96, 256, 384, 384, 256]
    assert net.fc6.in_features == 6 * 6 * 256
    assert not any(type(m).__name__.startswith("LocalResponse") for m in net.modules())
    assert alexnet(groups=2).num_parameters() == 60_965_224  # the two-GPU original


def test_vgg_configs_count_by_formula():
    """The configuration table's counts (133, 133, 134, 138, 144 million), without building the models."""
    def count(config: str) -> int:
        total, c_in = 0, 3
        for block in VGG_CONFIGS[config]:
            for k, c_out in block:
                total += (k * k * c_in + 1) * c_out
                c_in = c_out
        return total + (7 * 7 * 512 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000

    counts = {c: count(c) for c in "ABCDE"}
    assert counts == {"A": 132_863_336, "B": 133_047_848, "C": 133_638_952, "D": 138_357_544,
                      "E": 143_667_240}
    assert [round(n / 1e6) for n in counts.values()] == [133, 133, 134, 138, 144]


@pytest.mark.slow
@pytest.mark.parametrize(("config", "params"), [("A", 132_863_336), ("B", 133_047_848), ("C", 133_638_952),
                                                ("E", 143_667_240)])
def test_vgg_variants_built(config, params):
    assert vgg(config).num_parameters() == params


def test_vgg16_structure(fast_init):
    net = vgg16()
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13 and len([m for m in net if isinstance(m, nn.Linear)]) == 3
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) and c.stride == (1, 1) for c in convs)
    pools = [m for m in net if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 5 and all(p.kernel_size == (2, 2) and p.stride == (2, 2) for p in pools)
    assert [c.weight.size for c in convs] == [1_728, 36_864, 73_728, 147_456, 294_912, 589_824, 589_824,
                                              1_179_648] + [2_359_296] * 5
    assert net.fc6.weight.size == 102_760_448 and net.fc7.weight.size == 16_777_216
    assert net.fc8.weight.size == 4_096_000


def test_resnet_uses_active_residual_block():
    block = minigrad.kernels.get_kernel("ResidualBlock")
    net = resnet18()
    blocks = [m for m in net.modules() if isinstance(m, block)]
    assert len(blocks) == 8 and len([m for m in resnet34().modules() if isinstance(m, block)]) == 16

    made = []

    class CountingBlock(block):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    with override_kernels(ResidualBlock=CountingBlock):
        net = resnet18()
    assert len(made) == 8
    assert made[2] == (64, 128, 2)  # first block of layer2 halves the size and doubles the channels
    assert net.num_parameters() == 11_689_512


def test_resnet_structure_and_names():
    net = resnet18()
    assert isinstance(net, ResNet)
    assert net.conv1.kernel_size == (7, 7) and net.conv1.stride == (2, 2) and net.conv1.bias is None
    assert isinstance(net.maxpool, nn.MaxPool2d)
    names = set(net.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer4.1.bn2.bias",
            "fc.weight", "fc.bias"} <= names
    assert [len(getattr(net, f"layer{i}")) for i in range(1, 5)] == [2, 2, 2, 2]
    assert [len(getattr(resnet34(), f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    small = resnet18(num_classes=10, in_channels=1, small_input=True)
    assert small.conv1.kernel_size == (3, 3) and isinstance(small.maxpool, nn.Identity)
    # a 3×3 stem on 1 channel instead of a 7×7 one on 3, and a 10-way classifier
    assert small.num_parameters() == 11_689_512 - 7 * 7 * 3 * 64 + 3 * 3 * 1 * 64 - 990 * 513


# ----- forward passes -----
@pytest.mark.parametrize("name", ["mlp", "lenet5", "convnet"])
def test_small_models_forward(name):
    net = get_model(name)
    assert MODELS[name].input_shape == (1, 28, 28)
    assert net(x(3, 1, 28, 28)).shape == (3, 10)


def test_resnet18_small_forward_and_backward():
    net = resnet18(num_classes=10, in_channels=1, small_input=True)
    out = net(x(2, 1, 28, 28))
    assert out.shape == (2, 10)
    nn.functional.cross_entropy(out, np.array([1, 2])).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in net.parameters())
    assert resnet18(num_classes=10, small_input=True)(x(2, 3, 32, 32)).shape == (2, 10)


def test_resnet18_full_stem_forward():
    net = resnet18(num_classes=7).eval()
    assert net(x(1, 3, 64, 64)).shape == (1, 7)  # 64 → 32 → 16 → 16, 8, 4, 2 → global pool


def test_convnet_trains_one_step():
    net = keras_convnet(dropout=0.25)
    assert isinstance(net.dropout, nn.Dropout) and "dropout" not in keras_convnet().names()
    opt = minigrad.optim.SGD(net.parameters(), lr=0.1)
    data, labels = x(8, 1, 28, 28), np.arange(8) % 10
    before = nn.functional.cross_entropy(net(data), labels).item()
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(data), labels)
        loss.backward()
        opt.step()
    assert nn.functional.cross_entropy(net(data), labels).item() < before


def test_builder_arguments():
    assert lenet5(num_classes=5, in_channels=3)(x(2, 3, 28, 28)).shape == (2, 5)
    assert lenet5(padding=0)(x(2, 1, 32, 32)).shape == (2, 10)  # the 1998 32×32 input
    assert lenet5(activation="tanh", pool="avg").num_parameters() == 61_706
    assert mlp(hidden=(256,)).num_parameters() == 203_530  # the lecture's Keras MLP
    assert keras_convnet(in_channels=3, num_classes=2, input_size=32)(x(1, 3, 32, 32)).shape == (1, 2)
    with pytest.raises(ValueError, match="activation"):
        lenet5(activation="swish")
    with pytest.raises(ValueError, match="pool"):
        lenet5(pool="min")
    with pytest.raises(ValueError, match="configuration"):
        vgg("F")


@pytest.mark.slow
def test_alexnet_forward():
    net = alexnet().eval()
    assert net(x(1, 3, 227, 227)).shape == (1, 1000)


@pytest.mark.slow
def test_vgg16_forward():
    net = vgg16(num_classes=10).eval()
    assert net(x(1, 3, 224, 224)).shape == (1, 10)


# ----- Network and the registry -----
def test_network_container():
    net = Network([("a", nn.Linear(4, 3)), ("act", nn.ReLU()), ("b", nn.Linear(3, 2))], name="tiny")
    assert net.names() == ["a", "act", "b"] and len(net) == 3
    assert net["b"] is net[2] is net.b and isinstance(net[1], nn.ReLU)
    assert net(x(5, 4)).shape == (5, 2)
    assert "tiny" in repr(net) and "(act): ReLU()" in repr(net)
    with pytest.raises(ValueError, match="duplicate"):
        Network([("a", nn.ReLU()), ("a", nn.ReLU())])
    with pytest.raises(TypeError, match="Module"):
        Network([("a", lambda t: t)])


def test_registry():
    assert list_models() == ["mlp", "lenet5", "convnet", "alexnet", "vgg16", "resnet18", "resnet34"]
    assert MODELS["alexnet"].input_shape == (3, 227, 227)
    assert MODELS["vgg16"].input_shape == MODELS["resnet18"].input_shape == (3, 224, 224)
    assert all(len(info.input_shape) == 3 and info.num_classes in (10, 1000) for info in MODELS.values())
    net = get_model("resnet18", num_classes=10, in_channels=1, small_input=True)
    assert net(x(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(KeyError, match="unknown model"):
        get_model("googlenet")
