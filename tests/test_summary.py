"""summary(): the lecture's VGG16 memory/parameter table line by line, LeNet's table, MACs, side effects."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.models import alexnet, keras_convnet, lenet5, mlp, resnet18, vgg16
from minigrad.summary import Summary, leaf_modules, summary, wrap_leaf_forwards

# The lecture's VGG16 table: [H x W x C], activations, weights (no biases). The activation column's
# rounded figures (3.2M, 800K ...) are the exact products below.
VGG16_TABLE = """
CONV3-64:  [224x224x64]  (3x3x3)x64    =       1,728
CONV3-64:  [224x224x64]  (3x3x64)x64   =      36,864
POOL2:     [112x112x64]  0
CONV3-128: [112x112x128] (3x3x64)x128  =      73,728
CONV3-128: [112x112x128] (3x3x128)x128 =     147,456
POOL2:     [56x56x128]   0
CONV3-256: [56x56x256]   (3x3x128)x256 =     294,912
CONV3-256: [56x56x256]   (3x3x256)x256 =     589,824
CONV3-256: [56x56x256]   (3x3x256)x256 =     589,824
POOL2:     [28x28x256]   0
CONV3-512: [28x28x512]   (3x3x256)x512 =   1,179,648
CONV3-512: [28x28x512]   (3x3x512)x512 =   2,359,296
CONV3-512: [28x28x512]   (3x3x512)x512 =   2,359,296
POOL2:     [14x14x512]   0
CONV3-512: [14x14x512]   (3x3x512)x512 =   2,359,296
CONV3-512: [14x14x512]   (3x3x512)x512 =   2,359,296
CONV3-512: [14x14x512]   (3x3x512)x512 =   2,359,296
POOL2:     [7x7x512]     0
FC:        [1x1x4096]    7x7x512x4096  = 102,760,448
FC:        [1x1x4096]    4096x4096     =  16,777,216
FC:        [1x1x1000]    4096x1000     =   4,096,000
"""


def parse_table(text: str) -> list[tuple[str, tuple[int, ...], int]]:
    """(kind, shape as C×H×W, weights) per line of the table."""
    rows = []
    for line in text.strip().splitlines():
        kind, rest = line.split(":", 1)
        dims = [int(v) for v in rest[rest.index("[") + 1:rest.index("]")].split("x")]
        h, w, c = dims
        weights = int(rest.rsplit("=", 1)[1].replace(",", "")) if "=" in rest else 0
        shape = (c, h, w) if kind != "FC" else (c,)
        rows.append((kind.split("-")[0], shape, weights))
    return rows


@pytest.fixture
def vgg16_summary(fast_init) -> Summary:
    return summary(vgg16(), (3, 224, 224), execute=False)


def test_vgg16_matches_lecture_table_line_by_line(vgg16_summary):
    s = vgg16_summary
    table = parse_table(VGG16_TABLE)
    layers = [r for r in s.rows if not r.folded]  # ReLU, Dropout, Flatten are folded into the layer before
    assert len(layers) == len(table) == 21
    kinds = {"CONV3": "Conv2d", "POOL2": "MaxPool2d", "FC": "Linear"}
    for row, (kind, shape, weights) in zip(layers, table):
        assert row.type == kinds[kind], row
        assert row.output_shape == shape, row
        assert row.weights == weights, row
        assert row.activations == int(np.prod(shape)), row
        assert row.params == weights + (shape[0] if weights else 0), row  # one bias per output channel
    first = layers[0]
    assert (first.name, first.weights, first.params, first.activations) == ("conv1_1", 1_728, 1_792, 3_211_264)
    assert first.macs == 224 * 224 * 64 * (3 * 3 * 3) == 86_704_128


def test_vgg16_totals(vgg16_summary):
    s = vgg16_summary
    assert s.total_params == 138_357_544 == s.trainable_params
    assert s.total_weights == 138_344_128 and s.total_biases == 13_416
    assert s.input_activations == 224 * 224 * 3 == 150_528
    # the table's rows, input included, add up to 15.2M values (not the "24M" of its summary line)
    assert s.total_activations == 15_237_608
    assert s.activation_mb == pytest.approx(60.95, abs=0.01)  # MB = 1e6 bytes, float32
    assert s.param_mb == pytest.approx(553.43, abs=0.01)      # the notes' "138M x 4 bytes ~= 552MB"
    assert s.all_activations == 15_237_608 + 13_547_520 + 2 * 4096 * 2 + 25_088  # + ReLU, Dropout, Flatten
    assert s.total_macs == 15_470_264_320                     # ≈ 15.5 G multiply-adds per image


def test_vgg16_printed_table(vgg16_summary):
    text = str(vgg16_summary)
    for expected in ("conv1_1", "64×224×224", "1,728", "1,792", "3,211,264", "(3,211,264)", "102,760,448",
                     "138,357,544", "15,237,608", "x2 for backward", "MACs"):
        assert expected in text
    lines = text.splitlines()
    assert lines[0].startswith("VGG16: input 3×224×224")
    assert any(line.split()[:2] == ["1", "conv1_1"] for line in lines)


def test_lenet_matches_lecture_table():
    """Units = activations, connections = MACs (conv and FC rows), weights without biases."""
    s = summary(lenet5(), (1, 28, 28))
    rows = {r.name: r for r in s.rows}
    table = {"c1": (4704, 117_600, 150), "s2": (1176, None, 0), "c3": (1600, 240_000, 2400),
             "s4": (400, None, 0), "f5": (120, 48_000, 48_000), "f6": (84, 10_080, 10_080),
             "output": (10, 840, 840)}
    for name, (units, connections, weights) in table.items():
        assert rows[name].activations == units
        assert rows[name].weights == weights
        if connections is not None:  # a pooled unit "connects" to its 4 inputs, but multiplies nothing
            assert rows[name].macs == connections
    assert s.total_params == 61_706 and s.total_weights == 61_470
    assert s.total_macs == 117_600 + 240_000 + 48_000 + 10_080 + 840


def test_alexnet_shapes_match_lecture_table(fast_init):
    s = summary(alexnet(), (3, 227, 227), execute=False)
    shapes = {r.name: r.output_shape for r in s.rows}
    assert shapes["conv1"] == (96, 55, 55) and shapes["pool1"] == (96, 27, 27)
    assert shapes["conv2"] == (256, 27, 27) and shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == shapes["conv4"] == (384, 13, 13) and shapes["conv5"] == (256, 13, 13)
    assert shapes["pool3"] == (256, 6, 6)
    assert (shapes["fc6"], shapes["fc7"], shapes["fc8"]) == ((4096,), (4096,), (1000,))
    assert {r.name: r.params for r in s.rows}["conv1"] == 34_944
    assert s.total_params == 62_378_344


def test_convnet_runs_and_counts_macs():
    s = summary(keras_convnet(), (1, 28, 28), batch_size=2)
    assert [r.name for r in s.rows] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1",
                                        "relu3", "fc2"]
    assert [r.output_shape for r in s.rows if not r.folded] == [(32, 28, 28), (32, 14, 14), (64, 14, 14),
                                                               (64, 7, 7), (256,), (10,)]
    assert s.total_params == 824_970
    assert s.total_macs == 28 * 28 * 32 * 25 + 14 * 14 * 64 * 288 + 3136 * 256 + 256 * 10 == 5_045_248


def test_execute_false_gives_the_same_rows():
    net = resnet18(num_classes=10)
    run = summary(net, (3, 64, 64))
    dry = summary(net, (3, 64, 64), execute=False)
    assert run.rows == dry.rows and run.total_macs == dry.total_macs


def test_resnet18_macs_and_rows():
    s = summary(resnet18(), (3, 224, 224), execute=False)
    assert s.total_params == 11_689_512
    assert s.total_macs == 1_814_073_344  # the usual "1.8 GFLOPs" of ResNet-18
    names = [r.name for r in s.rows]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"] and names[-2:] == ["avgpool", "fc"]
    assert "layer2.0.shortcut.0" in names  # the projection of the first strided block
    shapes = {r.name: r.output_shape for r in s.rows}
    assert shapes["conv1"] == (64, 112, 112) and shapes["maxpool"] == (64, 56, 56)
    assert shapes["avgpool"] == (512,)


@pytest.mark.slow
def test_vgg16_real_forward_matches_shape_only():
    net = vgg16()
    assert summary(net, (3, 224, 224)).rows == summary(net, (3, 224, 224), execute=False).rows


def test_modes_restored_and_no_wrappers_left():
    net = resnet18(num_classes=10, small_input=True)
    net.train()
    net.layer2.eval()  # a mixed state must come back exactly
    before = {name: m.training for name, m in net.named_modules()}
    summary(net, (3, 32, 32))
    assert {name: m.training for name, m in net.named_modules()} == before
    assert not any("forward" in m.__dict__ for m in net.modules())
    assert all(p.grad is None for p in net.parameters())

    with pytest.raises(ValueError):
        summary(net, (2, 32, 32))  # wrong channel count: the error comes through, nothing is left behind
    assert {name: m.training for name, m in net.named_modules()} == before
    assert not any("forward" in m.__dict__ for m in net.modules())


def test_eval_mode_inside_summary():
    net = keras_convnet(dropout=0.5)
    seen = []

    def spy(name, module, forward, args, kwargs):
        seen.append(module.training)
        return forward(*args, **kwargs)

    summary(net, (1, 28, 28))
    assert net.training  # restored
    net.eval()
    with wrap_leaf_forwards(net, spy):
        net(minigrad.zeros(1, 1, 28, 28))
    assert seen and not any(seen)


def test_wrap_leaf_forwards_keeps_an_existing_instance_forward():
    layer = nn.ReLU()
    custom = lambda t: t * 2  # noqa: E731
    object.__setattr__(layer, "forward", custom)
    net = nn.Sequential(layer)
    with wrap_leaf_forwards(net, lambda n, m, f, a, k: f(*a, **k)):
        assert layer.forward is not custom
    assert layer.forward is custom
    assert [name for name, _ in leaf_modules(net)] == ["0"]


def test_batch_size_and_reused_layers():
    act = nn.ReLU()
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), act, nn.Linear(16, 16), act, nn.Linear(16, 10))
    s1, s4 = summary(net, (1, 28, 28)), summary(net, (1, 28, 28), batch_size=4)
    assert s1.rows == s4.rows  # counts are per image
    assert [r.name for r in s1.rows].count("2") == 2  # the shared ReLU appears at each call
    assert s1.total_params == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    with pytest.raises(ValueError, match="batch_size"):
        summary(net, (1, 28, 28), batch_size=0)


def test_mlp_summary_float64():
    s = summary(mlp().double(), (1, 28, 28), dtype="float64")
    assert s.bytes_per_value == 8 and s.total_params == 235_146
    assert s.param_mb == pytest.approx(235_146 * 8 / 1e6)
    assert s.total_macs == 784 * 256 + 256 * 128 + 128 * 10


@pytest.mark.parametrize(("layer", "shape"), [
    (nn.Conv2d(3, 8, 3, padding="same", stride=2), (3, 9, 9)),   # ceil(9/2) = 5
    (nn.Conv2d(3, 8, (3, 5), padding=(1, 0), stride=(1, 2)), (3, 7, 11)),
    (nn.Conv2d(4, 8, 3, groups=2, dilation=2), (4, 10, 10)),
    (nn.Conv1d(2, 4, 3, dilation=2), (2, 20)),
    (nn.MaxPool2d(3, stride=2, padding=1), (2, 9, 9)),
    (nn.AvgPool2d(2), (2, 7, 7)),
])
def test_shape_only_formula_matches_the_kernels(layer, shape):
    """A model that is a single layer works too; (W - F + 2P)/S + 1 agrees with the kernel's output."""
    run, dry = summary(layer, shape), summary(layer, shape, execute=False)
    assert run.rows == dry.rows and len(run.rows) == 1
    row = run.rows[0]
    if isinstance(layer, nn.Conv2d):
        c_in = layer.in_channels // layer.groups
        assert row.macs == row.activations * c_in * layer.kernel_size[0] * layer.kernel_size[1]
