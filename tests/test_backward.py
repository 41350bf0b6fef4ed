"""backward(): deep graphs, shared subgraphs, accumulation, and its arguments."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from gradcheck import GRAD_SETTINGS, assert_gradients_match, f64
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg

# ----------------------------------------------------------------------------- deep graphs


def test_backward_through_a_10000_op_chain_is_iterative():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(y.numpy(), [10_001, 10_002, 10_003])


def test_backward_through_a_10000_deep_chain_of_different_ops():
    steps = [
        lambda y: y * 1.0,
        lambda y: y + 0.0,
        lambda y: -y,
        lambda y: y.reshape(2, 3),
        lambda y: y.T,
        lambda y: y.flatten(),
        lambda y: y[...],
        lambda y: y.exp().log(),
        lambda y: mg.maximum(y, -100.0),
        lambda y: y / 1.0,
        lambda y: y.unsqueeze(0).squeeze(0),
    ]
    x = f64(np.linspace(-1, 1, 6))
    y = x
    negations = 0
    for i in range(10_000):
        step = i % len(steps)
        negations += step == 2
        y = steps[step](y)
    y.sum().backward()
    sign = -1.0 if negations % 2 else 1.0
    np.testing.assert_allclose(x.grad.numpy(), np.full(6, sign), rtol=1e-9)
    np.testing.assert_allclose(np.sort(y.numpy().ravel()), np.sort(sign * x.numpy()), rtol=1e-9)


def test_dropping_a_deep_graph_without_backward_is_fine():
    x = mg.ones(3, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    ref = weakref.ref(y._ctx)
    del y
    gc.collect()
    assert ref() is None


# ----------------------------------------------------------------------------- shared subgraphs


def test_reused_tensor_sums_both_paths():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    z = y + y
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())


@pytest.mark.parametrize("name, fn", [
    ("x*x", lambda x: x * x),
    ("x+x+x", lambda x: x + x + x),
    ("x-x", lambda x: x - x),
    ("x/x", lambda x: x / x),
    ("x**x", lambda x: x.abs() ** x),
    ("x@x.T", lambda x: x @ x.T),
    ("maximum(x, x)", lambda x: mg.maximum(x, x)),
    ("concatenate([x, x])", lambda x: mg.concatenate([x, x])),
    ("stack([x, x, x])", lambda x: mg.stack([x, x, x])),
    ("where(c, x, x*2)", lambda x: mg.where(x > 0, x, x * 2)),
    ("x[[0,0]] * x[0]", lambda x: x[[0, 0]] * x[0]),
])
def test_tensor_used_several_times_in_one_op(name, fn, rng):
    assert_gradients_match(fn, [f64(rng.uniform(0.5, 1.5, (2, 3)))])


def test_diamond_graph(rng):
    def diamond(x):
        a = x.exp()
        b = a * 2.0
        c = a.sqrt() + a
        d = b * c
        return d + a.sum(axis=0, keepdims=True)

    assert_gradients_match(diamond, [f64(rng.standard_normal((3, 2)))])


def test_shared_subgraph_used_by_two_outputs(rng):
    def two_heads(x, w):
        h = (x @ w).tanh()
        return (h * h).sum(axis=1) + h.mean(axis=1)

    assert_gradients_match(two_heads, [f64(rng.standard_normal((4, 3))), f64(rng.standard_normal((3, 5)))])


# values stay moderate however the ops are chained: products go through tanh/sigmoid of one factor
DAG_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b.tanh(),
    "max": lambda a, b: mg.maximum(a, b.T.T * 0.5),
    "matmul": lambda a, b: (a @ b.T).tanh() @ a * 0.5,
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: (a * 2).sigmoid(),
    "reversed": lambda a, b: a[::-1] * b.sigmoid(),
    "gather": lambda a, b: a[[1, 1]] + b[[0, 1]],
    "row sums": lambda a, b: a + b.sum(axis=0, keepdims=True).tanh(),
    "stack": lambda a, b: mg.stack([a, b]).mean(axis=0),
}


@st.composite
def dag_programs(draw):
    n_inputs = draw(st.integers(1, 3))
    program = []
    for k in range(draw(st.integers(1, 10))):
        available = n_inputs + k
        program.append((draw(st.sampled_from(sorted(DAG_OPS))), draw(st.integers(0, available - 1)),
                        draw(st.integers(0, available - 1))))
    outputs = draw(st.lists(st.integers(0, n_inputs + len(program) - 1), min_size=1, max_size=3))
    return n_inputs, program, outputs


@GRAD_SETTINGS
@given(case=dag_programs(), seed=st.integers(0, 2**32 - 1))
def test_random_graphs_with_shared_nodes_match_central_differences(case, seed):
    # each node may feed any later node, so nodes are reached through paths of different lengths
    n_inputs, program, outputs = case

    def run(*inputs):
        nodes = list(inputs)
        for name, i, j in program:
            nodes.append(DAG_OPS[name](nodes[i], nodes[j]))
        out = sum((nodes[k] for k in outputs[1:]), nodes[outputs[0]])
        return sum((x * 0.25 for x in inputs), out)  # every input gets a gradient

    rng = np.random.default_rng(seed)
    inputs = [f64(rng.standard_normal((2, 2))) for _ in range(n_inputs)]
    assert_gradients_match(run, inputs, rtol=1e-5, atol=1e-6)


def test_node_reached_by_a_short_and_a_long_path():
    # x feeds the matmul directly and through x.T: x must wait for both gradients
    x = f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    ((x @ x.T) * f64(g, requires_grad=False)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (g + g.T) @ x.numpy())


# ----------------------------------------------------------------------------- accumulation


def test_gradients_accumulate_across_backward_calls_and_zero_grad_clears():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_leaf_grad_is_its_own_array():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.tensor([1.0, 2.0], requires_grad=True)
    (x + y).sum().backward()  # Add sends one array to both inputs
    x.grad.data += 1
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    assert x.grad.dtype == np.float32 and not x.grad.requires_grad


def test_backward_on_a_leaf_itself():
    x = mg.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ----------------------------------------------------------------------------- backward arguments


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = mg.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one-element tensor.*shape \(2, 3\)"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3, 2\), expected \(2, 3\)"):
        (x * 2).backward(np.ones((3, 2)))
    assert x.grad is None


@pytest.mark.parametrize("make", [lambda g: g, lambda g: g.tolist(), lambda g: mg.tensor(g)])
def test_backward_with_an_explicit_gradient(make):
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = np.array([[1.0, -1.0], [0.5, 2.0]], dtype=np.float32)
    (x * x).backward(make(g))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * g)


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(1).backward()


def test_graph_is_freed_after_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"already freed.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_doubles_the_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).exp().sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * first)
    with pytest.raises(RuntimeError, match="already freed"):
        loss.backward()
