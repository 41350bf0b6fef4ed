"""nn.Module: registration, traversal, state dicts, dtypes and devices."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import TwoLayer, assert_same_state, one_line, snapshot

import minigrad as mg
from minigrad import nn

# ----------------------------------------------------------------------------- registration


def test_named_parameters_in_registration_order():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight",
                                                        "fc2.bias"]
    assert [p.shape for p in model.parameters()] == [(1,), (3, 4), (3,), (2, 3), (2,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.num_parameters() == 1 + 12 + 3 + 6 + 2


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias"]
    assert len(list(model.parameters())) == 2

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(mg.ones(2))
            self.b = self.a

    assert [n for n, _ in Tied().named_parameters()] == ["a"]


def test_children_and_modules():
    model = TwoLayer()
    assert [type(c).__name__ for c in model.children()] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in model.named_children()] == ["fc1", "act", "fc2"]
    nested = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert [n for n, _ in nested.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert len(list(nested.modules())) == 5
    assert [n for n, _ in nested.named_parameters()] == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]


def test_reassigning_and_deleting_attributes_updates_the_registry():
    model = TwoLayer()
    model.fc1 = nn.Linear(4, 3, bias=False)
    assert "fc1.bias" not in dict(model.named_parameters())
    model.act = "not a module"
    assert [n for n, _ in model.named_children()] == ["fc1", "fc2"]
    del model.scale
    assert "scale" not in dict(model.named_parameters())
    model.fc2 = None
    assert [n for n, _ in model.named_children()] == ["fc1"]


def test_forgetting_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match=r"Bad.__init__ must call super\(\).__init__\(\)"):
        Bad()


def test_buffers_are_in_the_state_dict_but_not_parameters():
    bn = nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    bn.register_buffer("unused", None)
    assert "unused" not in bn.state_dict()


def test_assigning_a_tensor_to_a_buffer_keeps_it_a_buffer():
    bn = nn.BatchNorm1d(3)
    bn.running_mean = mg.full(3, fill_value=2.0)
    assert "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], [2.0, 2.0, 2.0])
    assert bn.double().running_mean.dtype == np.float64
    with pytest.raises(TypeError, match="cannot assign list to buffer 'running_var'"):
        bn.running_var = [1.0, 1.0, 1.0]


def test_train_and_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].eval()
    assert model.training and model[0].training and not model[1][0].training and not model[1][1].training


def test_zero_grad_and_requires_grad():
    model = TwoLayer()
    model(mg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 0
    assert not model(mg.randn(5, 4)).requires_grad


def test_repr_is_readable_and_nested():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.25), nn.Linear(3, 2, bias=False)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.25)\n"
        "    (1): Linear(in_features=3, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.BatchNorm2d(8)) == "BatchNorm2d(8, eps=1e-05, momentum=0.1)"


def test_sequential_and_module_list():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2] and list(seq) == layers
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    with pytest.raises(TypeError, match="Sequential: item 1 is a int, expected a Module"):
        nn.Sequential(nn.ReLU(), 3)
    ml = nn.ModuleList([nn.Linear(2, 2)]).append(nn.Linear(2, 2))
    assert len(ml) == 2 and [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    with pytest.raises(TypeError, match="ModuleList: expected a Module"):
        ml.append("x")


def test_forward_must_be_defined():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward must define forward"):
        NoForward()(mg.ones(1))


# ----------------------------------------------------------------------------- state dicts


def test_state_dict_round_trip_into_a_fresh_model():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    model(mg.randn(8, 4))  # move the running statistics away from their start
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                           "1.running_mean", "1.running_var"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["0.weight"].shape == (5, 4) and state["0.weight"].dtype == np.float32

    mg.manual_seed(2)
    fresh = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    assert not np.array_equal(fresh.state_dict()["0.weight"], state["0.weight"])
    fresh.load_state_dict(state)
    assert_same_state(fresh.state_dict(), state)
    x = mg.randn(6, 4)
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(model(x).numpy(), fresh(x).numpy())


def test_state_dict_is_a_copy():
    lin = nn.Linear(2, 2)
    state = lin.state_dict()
    state["weight"][:] = 100.0
    assert not np.any(lin.weight.numpy() == 100.0)


def test_loaded_values_are_copied_and_keep_the_module_dtype():
    lin = nn.Linear(2, 2)
    source = {"weight": np.ones((2, 2), dtype=np.float64), "bias": mg.tensor([1.0, 2.0])}
    lin.load_state_dict(source)
    assert lin.weight.dtype == np.float32
    source["weight"][0, 0] = 5.0
    assert lin.weight.numpy()[0, 0] == 1.0
    np.testing.assert_array_equal(lin.bias.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("change, error, pattern", [
    (lambda s: s.pop("fc2.bias"), KeyError, r"load_state_dict: missing keys \['fc2.bias'\]"),
    (lambda s: s.update(extra=np.zeros(2)), KeyError, r"load_state_dict: unexpected keys \['extra'\]"),
    (lambda s: s.update({"fc2.bias": np.zeros(3)}), ValueError,
     r"load_state_dict: fc2.bias has shape \(3,\), this module expects \(2,\)"),
    (lambda s: s.update({"fc2.weight": np.zeros((3, 2))}), ValueError, r"fc2.weight has shape \(3, 2\)"),
    (lambda s: s.update({"fc2.bias": np.array(["a", "b"])}), TypeError, r"fc2.bias holds <U1 values"),
])
def test_load_state_dict_errors_change_nothing(change, error, pattern):
    model = TwoLayer()
    before = snapshot(model)
    state = {k: v + 1.0 for k, v in model.state_dict().items()}  # every value differs from the model's
    change(state)
    with pytest.raises(error, match=pattern) as err:
        model.load_state_dict(state)
    one_line(err)
    assert_same_state(model.state_dict(), before)


def test_load_state_dict_non_strict_loads_what_fits():
    model = TwoLayer()
    before = snapshot(model)
    model.load_state_dict({"fc1.bias": np.array([7.0, 8.0, 9.0]), "other": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model.fc1.bias.numpy(), [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(model.fc1.weight.numpy(), before["fc1.weight"])


# ----------------------------------------------------------------------------- dtypes and devices


def test_double_float_and_to_cpu():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(mg.randn(5, 3)).sum().backward()
    assert model.double() is model
    for tensor in [*model.parameters(), *model.buffers()]:
        assert tensor.dtype == np.float64
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    out = model(mg.randn(5, 3, dtype="float64"))
    assert out.dtype == np.float64
    model.float()
    assert all(t.dtype == np.float32 for t in [*model.parameters(), *model.buffers()])
    before = snapshot(model)
    assert model.to("cpu") is model
    assert_same_state(model.state_dict(), before)
    assert all(t.device == "cpu" for t in model.parameters())
    with pytest.raises(mg.DeviceError, match="device must be"):
        model.to("tpu")
