"""The grading suites themselves: points per exercise, visibility, coverage, and the judge's comparisons."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from grader.host.launch import JUDGE_INI, SUITES_DIR, collect_tests
from grader.jail.proxy import Handle
from grader.judge import compare
from grader.vocabulary.exercises import EXERCISES, WEIGHTS

KIT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope="module")
def items():
    """Every test of the public and hidden suites with its markers, collected by the judge's pytest setup."""
    return collect_tests("hidden")


def suite_of(item):
    return Path(item["file"]).parent.name  # "public" or "hidden"


def totals(items, suite=None):
    out = defaultdict(float)
    for item in items:
        if suite is None or suite_of(item) == suite:
            out[item["exercise"]] += item["points"]
    return out


# ----- points and markers -----

def test_every_test_has_an_exercise_and_explicit_positive_points(items):
    assert len(items) > 100
    for item in items:
        assert item["exercise"] in EXERCISES, item["nodeid"]
        assert item["points"] is not None and item["points"] > 0, item["nodeid"]


def test_public_and_hidden_points_of_each_exercise_add_up_to_its_weight(items):
    both = totals(items)
    assert {name: round(points, 6) for name, points in both.items()} == {n: float(w) for n, w in WEIGHTS.items()}
    assert round(sum(both.values()), 6) == 100.0


def test_the_public_suite_holds_about_a_fifth_of_each_exercise(items):
    public = totals(items, "public")
    for name in EXERCISES:
        assert 0.15 <= public[name] / WEIGHTS[name] <= 0.25, (name, public[name])
    assert round(sum(public.values()), 6) == 20.0


def test_each_suite_file_grades_the_exercise_it_is_named_after(items):
    for item in items:
        assert Path(item["file"]).stem == f"test_{item['exercise']}", item["nodeid"]
    assert {(suite_of(i), i["exercise"]) for i in items} == {(s, e) for s in ("public", "hidden") for e in EXERCISES}


def test_hidden_tests_are_hidden_and_public_tests_visible(items):
    for item in items:
        if suite_of(item) == "hidden":
            assert item["visibility"] in ("hidden", "after_due_date", "after_published"), item["nodeid"]
        else:
            assert item["visibility"] in (None, "visible"), item["nodeid"]


def test_test_ids_are_unique_and_named_for_students(items):
    ids = [item["nodeid"] for item in items]
    assert len(ids) == len(set(ids))
    for item in items:
        if "[" not in item["nodeid"]:  # a parametrized test is named by its id, the others by their docstring
            assert item["doc"], f"{item['nodeid']} needs a docstring: it is the name students see"


REQUIRED = {
    "conv": ["test_conv_output_size_floors_and_strict_refuses_a_stride_that_does_not_fit",
             *(f"test_conv2d_forward[{case}]" for case in (
                 "stride_1_no_padding", "stride_2_padding_1", "stride_3_floored", "padding_2_kernel_5x5",
                 "padding_and_stride_pairs", "same_padding_kernel_3x4", "same_padding_stride_2", "dilation_2",
                 "groups_2", "non_square_input_and_kernel", "kernel_1x1", "batch_1_no_bias", "float32")),
             "test_conv2d_backward_dx[dilation_2]", "test_conv2d_backward_dw[groups_2]",
             "test_conv2d_backward_db[padding_2_kernel_5x5]", "test_conv2d_backward_db_is_none_without_bias",
             "test_conv2d_forward_does_not_modify_its_inputs", "test_conv1d_backward_dx_dw_db",
             *(f"test_conv2d_forward_fixed[{case}]" for case in (
                 "stride_pair_alone", "padding_pair_alone", "dilation_2_alone", "dilation_pair", "float32_alone",
                 "same_padding_dilation_2", "same_dilation_stride_even_kernel")),
             "test_conv2d_backward_dx_fixed[same_dilation_stride_even_kernel]",
             "test_conv2d_backward_dw_fixed[float32_alone]", "test_conv2d_forward_alone_does_not_modify_its_inputs",
             "test_conv2d_backward_alone_does_not_modify_dout",
             "test_conv_output_size_refuses_sizes_strides_and_dilations_below_1_and_negative_padding",
             "test_conv2d_forward_refuses_groups_that_do_not_divide_the_channels",
             "test_conv1d_forward_with_same_padding_and_dilation_keeps_float32"],
    "pooling": ["test_max_pool_backward[overlapping_3x3_stride_2]",
                "test_max_pool_backward[stride_3_does_not_divide_the_input]", "test_max_pool_backward[padding_1]",
                "test_max_pool_backward_with_tied_maxima", "test_average_pool_forward[padding_1]",
                "test_average_pool_backward[overlapping_3x3_stride_2]",
                *(f"test_max_pool_forward_fixed[{case}]" for case in (
                    "non_square_window_alone", "stride_pair_alone", "padding_pair_alone", "float32_alone")),
                "test_max_pool_backward_fixed[float32_alone]", "test_average_pool_forward_fixed[padding_pair_alone]",
                "test_average_pool_backward_fixed[float32_alone]",
                "test_max_pool_backward_with_tied_maxima_in_overlapping_windows",
                "test_max_pool_backward_overlapping_windows_share_a_peak",
                "test_max_pool_forward_alone_does_not_modify_its_input",
                "test_average_pool_forward_does_not_modify_its_input", "test_max_pool_backward_does_not_modify_dout",
                "test_pooling_refuses_padding_over_half_the_window_along_either_axis",
                "test_pooling_refuses_a_window_larger_than_the_input"],
    "relu": ["test_relu_gradient_is_zero_at_exactly_zero", "test_relu_forward_does_not_modify_its_input",
             "test_relu_backward_does_not_modify_dout", "test_relu_forward_keeps_float32",
             "test_relu_backward_keeps_float32"],
    "softmax_ce": ["test_cross_entropy_loss_of_logits_of_1e4_in_float32", "test_cross_entropy_loss_of_a_batch_of_1",
                   "test_cross_entropy_gradient_of_a_random_batch", "test_softmax_along_axis_0",
                   "test_softmax_of_logits_of_1e4_in_float32", "test_log_softmax_of_logits_of_1e4_in_float32",
                   "test_softmax_along_axis_0_of_logits_of_1e4_in_float32",
                   "test_log_softmax_along_axis_0_of_logits_of_1e4_in_float32", "test_softmax_keeps_float32",
                   "test_log_softmax_keeps_float32", "test_cross_entropy_gradient_keeps_float32",
                   "test_softmax_does_not_modify_its_input", "test_log_softmax_does_not_modify_its_input",
                   "test_cross_entropy_does_not_modify_the_logits_or_labels",
                   "test_cross_entropy_refuses_negative_labels"],
    "residual": ["test_block_of_64_channels_has_73984_parameters", "test_state_dict_keys_and_shapes",
                 "test_block_forward_with_loaded_weights[projection-eval]",
                 "test_block_backward_parameter_gradients[projection-train]"],
}


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_hidden_suite_covers_the_required_cases(items, exercise):
    names = {item["nodeid"].split("::")[-1] for item in items if suite_of(item) == "hidden"}
    assert not [name for name in REQUIRED[exercise] if name not in names]


@pytest.mark.parametrize("exercise", EXERCISES)
def test_each_hidden_suite_has_fixed_and_random_tests(items, exercise):
    """Fixed tests (no ``rng``: the same inputs at every seed) pin every rule whatever the seed; random ones vary."""
    hidden = [item for item in items if suite_of(item) == "hidden" and item["exercise"] == exercise]
    fixed = [item for item in hidden if not {"rng", "seed"} & set(item["fixtures"])]
    assert fixed and len(fixed) < len(hidden), [item["nodeid"] for item in fixed]


def test_suites_take_expected_values_only_through_grader_reference():
    """No suite imports ``solutions``: a recorded replay (a handout, the Gradescope zip) has no solutions.

    ``_support.py`` may reach them only inside functions recorded with ``@recorded`` (or helpers that
    only such functions call).
    """
    for path in sorted(SUITES_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        assert not [n for n in top if _imports_solutions(n)], path
        if path.name.startswith("test_"):
            assert not [n for n in ast.walk(tree) if _imports_solutions(n)], path
    support = ast.parse((SUITES_DIR / "_support.py").read_text())
    functions = {node.name: node for node in support.body if isinstance(node, ast.FunctionDef)}
    recorded = {name for name, node in functions.items()
                if any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "recorded"
                       for d in node.decorator_list)}
    callers = {name: {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
               for name, node in functions.items()}
    for name, node in functions.items():
        if any(_imports_solutions(n) for n in ast.walk(node)):
            used_by = {caller for caller, called in callers.items() if name in called}
            assert name in recorded or (used_by and used_by <= recorded), (name, used_by)


def _imports_solutions(node):
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "solutions"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "solutions" for alias in node.names)
    return False


def test_the_public_suite_has_the_lecture_examples(items):
    names = {item["nodeid"].split("::")[-1] for item in items if suite_of(item) == "public"}
    assert {"test_box_blur_of_the_5x5_image", "test_max_pool_of_the_4x4_example",
            "test_conv_output_size_of_the_7x7_input_with_a_3x3_filter"} <= names


def test_hidden_suites_never_reveal_expected_values_and_no_suite_imports_the_submission():
    for path in sorted(SUITES_DIR.rglob("*.py")):
        text = path.read_text()
        assert "from exercises" not in text and "import exercises" not in text, path
        if path.parent.name == "hidden":
            assert "reveal=True" not in text, path


def test_the_judge_configuration_exists():
    assert JUDGE_INI.is_file()


# ----- compare.assert_array_matches and friends -----

def fails(fn, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_matching_arrays_pass_within_the_dtype_tolerance():
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    compare.assert_array_matches("out", a * (1 + 1e-12), a)
    compare.assert_array_matches("out", (a * (1 + 1e-5)).astype(np.float32), a.astype(np.float32))
    compare.assert_array_matches("n", np.arange(3), np.arange(3))


def test_a_non_array_is_named_with_its_type():
    message = fails(compare.assert_array_matches, "out", Handle(3, "AlwaysEqual"), np.zeros(2),
                    source="conv2d_forward")
    assert message == "conv2d_forward returned an AlwaysEqual for out, expected a NumPy array"
    assert "a list of 2 values" in fails(compare.assert_array_matches, "dx", [1.0, 2.0], np.zeros(2))
    assert "ndarray of Python objects" in fails(compare.assert_array_matches, "dx", Handle(1, "ndarray"), np.zeros(2))
    assert "LyingArray" in fails(compare.assert_array_matches, "dx", np.zeros(2).view(type("LyingArray",
                                                                                           (np.ndarray,), {})),
                                 np.zeros(2))


def test_shape_dtype_and_finiteness_are_checked_in_that_order():
    expected = np.zeros((2, 3), np.float32)
    assert "has shape (3, 2), expected (2, 3)" in fails(compare.assert_array_matches, "dw", np.zeros((3, 2)), expected)
    message = fails(compare.assert_array_matches, "out", np.zeros((2, 3)), expected)
    assert "dtype float64, expected float32" in message and "upcast" in message
    bad = np.zeros((2, 3), np.float32)
    bad[1, 2] = np.nan
    bad[0, 1] = np.inf
    message = fails(compare.assert_array_matches, "out", bad, expected)
    assert "1 NaN and 1 inf values" in message and "first at [0, 1]" in message


def test_value_errors_name_the_worst_element_and_count_but_hide_the_expected_values():
    expected = np.arange(24, dtype=np.float64).reshape(2, 3, 4) + 1
    got = expected.copy()
    got[1, 2, 3] += 0.5
    got[0, 0, 0] += 0.25
    message = fails(compare.assert_array_matches, "dw", got, expected, source="conv2d_backward", hint="check dW")
    assert message.startswith("conv2d_backward: dw: max abs error 0.5 at [1, 2, 3]")
    assert "max rel error 0.25 at [0, 0, 0]" in message and "2 of 24 values off" in message
    assert message.endswith(" — check dW")
    assert "expected" not in message.replace("check dW", "")
    revealed = fails(compare.assert_array_matches, "dw", got, expected, reveal=True)
    assert "at [1, 2, 3] expected 24, got 24.5" in revealed


def test_relative_error_is_left_out_where_the_expected_value_is_zero():
    message = fails(compare.assert_array_matches, "dx", np.array([0.0, 1.0]), np.zeros(2))
    assert "rel" not in message and "1 of 2 values off" in message


def test_results_tuples_none_and_plain_values():
    assert compare.assert_result_pair("relu_forward", [np.zeros(1), Handle(1, "tuple")])[0].shape == (1,)
    assert "expected a tuple (out, cache)" in fails(compare.assert_result_pair, "relu_forward", np.zeros(1))
    assert "returned 2 values, expected 3" in fails(compare.assert_result_tuple, "conv2d_backward", [1, 2],
                                                    ("dx", "dw", "db"))
    compare.assert_none("db", None)
    assert "expected None (no bias)" in fails(compare.assert_none, "db", np.zeros(2), why="no bias")
    compare.assert_value_equals("size", np.array(5), 5)
    assert fails(compare.assert_value_equals, "size", 4, 5) == "size is 4, which is wrong"
    assert fails(compare.assert_value_equals, "size", 4, 5, reveal=True) == "size is 4, expected 5"
    assert "an Int, expected an int" in fails(compare.assert_value_equals, "size", Handle(2, "Int"), 5)


def test_same_keys_names_the_missing_and_unexpected_ones():
    compare.assert_same_keys("state_dict", ["b", "a"], ["a", "b"])
    message = fails(compare.assert_same_keys, "state_dict", ["a", "c"], ["a", "b"])
    assert message == "state_dict lacks b; has unexpected c"


def test_every_failed_property_is_named_in_one_message():
    """A NaN result in the wrong dtype is reported as both, so a student never fixes one only to meet the other."""
    expected = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    got = expected.astype(np.float64)
    got[0, 1] = np.nan
    message = fails(compare.assert_array_matches, "out", got, expected, source="relu_forward")
    assert message.startswith("relu_forward: out has dtype float64, expected float32")
    assert "upcast" in message and "1 NaN value where finite ones are expected (first at [0, 1])" in message
    got[1, 2] += 0.5  # and a wrong value among the finite ones
    message = fails(compare.assert_array_matches, "out", got, expected, source="relu_forward")
    assert "dtype float64" in message and "1 NaN value" in message
    assert "max abs error 0.5 at [1, 2]" in message and "1 of the other 5 values off" in message
    # a wrong shape too: the non-finite values are still counted
    message = fails(compare.assert_array_matches, "dx", np.full((3, 2), np.inf), expected)
    assert message.startswith("dx has shape (3, 2), expected (2, 3); has dtype float64, expected float32")
    assert "6 inf values where finite ones are expected" in message
    # only wrong values: the message still starts with the error
    message = fails(compare.assert_array_matches, "out", expected + np.float32(1), expected)
    assert message.startswith("out: max abs error 1 at")


def test_arrays_of_other_kinds_get_a_dtype_message_not_a_crash():
    message = fails(compare.assert_array_matches, "out", np.array(["a", "b"]), np.zeros(2))
    assert message.startswith("out has dtype <U1, expected float64")
    message = fails(compare.assert_array_matches, "labels", np.array([1.0, 2.5]), np.array([1, 2]))
    assert "has dtype float64, expected int64" in message and "max abs error 0.5 at [1]" in message


def test_inputs_unchanged_detects_in_place_changes():
    x = np.arange(6.0).reshape(2, 3)
    compare.assert_inputs_unchanged("relu_forward", ["x", "cache"], [x, Handle(1, "tuple")], [x.copy(), None])
    changed = x.copy()
    changed[1, 0] = -1
    message = fails(compare.assert_inputs_unchanged, "relu_forward", ["x"], [x], [changed])
    assert "modified its input x in place (1 of 6 values changed, first at [1, 0])" in message
    assert "replaced its input x" in fails(compare.assert_inputs_unchanged, "f", ["x"], [x], [x.astype(np.float32)])
