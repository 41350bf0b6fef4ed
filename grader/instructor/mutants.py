"""The self-test's mutants: plausible student bugs, each an exact-text edit of one reference module.

A mutant's edits apply to a module of the reference *submission* (``solutions/<module>.py`` with
``solutions/_checks.py`` inlined, as a student hands it in), so ``_checks`` helpers such as
``add_windows`` can be mutated in one exercise without touching the others. Every ``find`` text must
occur exactly once: when a solution is edited and a mutant no longer applies, ``StaleMutantError``
says which one, instead of a mutant silently grading as the reference.

Several mutants of different modules can share one submission (``write_submission``); ``batches`` groups
them so that none can reach another's exercise (pooling imports conv), for ``grader selftest`` to grade
each batch in one judge run. Each bug class the suites must catch at any seed has at least one mutant
here: a shift by the batch's max, a width from the window's height, logits changed in place, "same"
padding without dilation, float64 out of float32 code, a pair option read from its first element ...
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import solutions
from grader.vocabulary.exercises import EXERCISES

SOLUTIONS_DIR = Path(solutions.__file__).resolve().parent


class StaleMutantError(ValueError):
    """A mutant whose find text does not occur exactly once in its module."""


@dataclass(frozen=True)
class Mutant:
    """One bug: replace ``find`` by ``replace`` in ``module``; several edits as equal-length tuples."""

    name: str
    exercise: str
    description: str
    module: str
    find: str | tuple[str, ...]
    replace: str | tuple[str, ...]

    def __post_init__(self) -> None:
        if self.exercise not in EXERCISES or self.module not in EXERCISES:
            raise ValueError(f"mutant {self.name}: unknown exercise {self.exercise!r} or module {self.module!r}")
        if len(self.edits()) != (1 if isinstance(self.find, str) else len(self.find)):
            raise ValueError(f"mutant {self.name}: find and replace differ in number")

    def edits(self) -> list[tuple[str, str]]:
        """The (find, replace) pairs, in order."""
        if isinstance(self.find, str) and isinstance(self.replace, str):
            return [(self.find, self.replace)]
        if isinstance(self.find, tuple) and isinstance(self.replace, tuple) and len(self.find) == len(self.replace):
            return list(zip(self.find, self.replace))
        return []

    def apply(self, source: str) -> str:
        """``source`` with every edit made; StaleMutantError unless each find text occurs exactly once."""
        for find, replace in self.edits():
            count = source.count(find)
            if count != 1:
                raise StaleMutantError(f"stale mutant {self.name!r}: its find text occurs {count} times in "
                                       f"{self.module}.py (expected exactly once): {find[:80]!r}; update "
                                       f"grader/instructor/mutants.py to the current solutions/{self.module}.py")
            source = source.replace(find, replace)
        return source


def reference_sources() -> dict[str, str]:
    """The reference submission's modules by name: each solution with ``solutions/_checks.py`` inlined."""
    body = (SOLUTIONS_DIR / "_checks.py").read_text().split("from __future__ import annotations\n", 1)[1]
    sources = {}
    for name in EXERCISES:
        source = (SOLUTIONS_DIR / f"{name}.py").read_text()
        # the import may be one line or a parenthesised block over several
        sources[name] = re.sub(r"^from \._checks import (?:\([^)]*\)|.*)$", lambda _: body, source, flags=re.M)
        if "._checks" in sources[name]:
            raise RuntimeError(f"solutions/{name}.py still imports ._checks after inlining it")
    return sources


def write_stubs(target: Path) -> Path:
    """Write the handout's stubs into ``target`` as a submission (every test: "not implemented yet")."""
    import exercises

    target.mkdir(parents=True, exist_ok=True)
    for name in EXERCISES:
        (target / f"{name}.py").write_bytes((Path(exercises.__file__).parent / f"{name}.py").read_bytes())
    return target


def write_submission(target: Path, mutant: Mutant | Sequence[Mutant] | None = None) -> Path:
    """Write the reference submission into ``target``, with ``mutant`` (or each of several, one per module)
    applied to its module."""
    chosen = [] if mutant is None else [mutant] if isinstance(mutant, Mutant) else list(mutant)
    by_module = {m.module: m for m in chosen}
    if len(by_module) != len(chosen):
        raise ValueError("at most one mutant per module: " + ", ".join(m.name for m in chosen))
    target.mkdir(parents=True, exist_ok=True)
    for name, source in reference_sources().items():
        if name in by_module:
            source = by_module[name].apply(source)
        (target / f"{name}.py").write_text(source)
    return target


def imported_exercises() -> dict[str, set[str]]:
    """Which other exercise modules each module of the reference submission imports (pooling: conv)."""
    return {name: {a or b for a, b in re.findall(r"^from \.(\w+) import|^from \. import (\w+)", source, re.M)}
            & set(EXERCISES) for name, source in reference_sources().items()}


def batches(mutants: Sequence[Mutant], separate: bool = False) -> list[list[Mutant]]:
    """Groups of mutants to grade in one judge run: at most one per exercise, none from two exercises one of
    which imports the other (a conv mutant would move pooling's score). ``separate``: one mutant each."""
    if separate:
        return [[m] for m in mutants]
    imports = imported_exercises()

    def reach(m: Mutant) -> set[str]:
        touched = {m.exercise, m.module}
        return touched | {i for t in touched for i in imports.get(t, ())}

    groups: list[list[Mutant]] = []
    for mutant in mutants:
        group = next((g for g in groups if not any(reach(mutant) & reach(other) for other in g)), None)
        if group is None:
            groups.append([mutant])
        else:
            group.append(mutant)
    return groups


def check_mutants(mutants: list[Mutant] | tuple[Mutant, ...]) -> None:
    """Raise StaleMutantError for the first mutant that does not apply (or ValueError for a duplicate name)."""
    sources = reference_sources()
    seen: set[str] = set()
    for mutant in mutants:
        if mutant.name in seen:
            raise ValueError(f"two mutants are named {mutant.name!r}")
        seen.add(mutant.name)
        mutant.apply(sources[mutant.module])


_M = Mutant
RELU_OUT = "return xp.maximum(x, xp.zeros((), dtype=x.dtype)), positive"
CE_RETURN = "return dlogits * (dloss / n)"
SOFTMAX_EXP = "e = xp.exp(x - x.max(axis=axis, keepdims=True))"
LOG_SOFTMAX_SHIFT = "shifted = x - x.max(axis=axis, keepdims=True)"
CE_LOG_P = "log_p = log_softmax(logits, axis=1)"
RELU_BACKWARD = "return dout * positive"
CONV_STRIDE_DILATION = 's, d = pair(stride, "stride"), pair(dilation, "dilation")'
FIRST_MAX_LOOP = "    for entry in slices:\n        winner"
FINAL_RELU = "return F.relu(residual + skip)"
COL2IM_TARGET = "add_windows(dx_pad[:, row * s[0]:].transpose(3, 0, 1, 2), dwin, "
ADD_WINDOWS_CALL = COL2IM_TARGET + "s, d)"

MUTANTS: tuple[Mutant, ...] = (
    # ----- conv -----
    _M("conv_dw_transposed_kernel", "conv", "dw reshaped as (.., KW, KH) and transposed: the kernel's axes swap",
       "conv", "cols.transpose(0, 2, 1)).reshape(w.shape)",
       "cols.transpose(0, 2, 1)).reshape(c_out, -1, kw, kh).transpose(0, 1, 3, 2)"),
    _M("conv_backward_forgets_padding", "conv", "dx is the top-left corner of dx_pad, not its padding cut off",
       "conv", "dx_pad[:, top:top + h, left:left + w_in]", "dx_pad[:, :h, :w_in]"),
    _M("conv_backward_forgets_dilation", "conv", "col2im puts the columns back without dilation",
       "conv", ADD_WINDOWS_CALL, COL2IM_TARGET + "s, (1, 1))"),
    _M("conv_forward_forgets_dilation", "conv", "im2col takes undilated windows (the output size is still right)",
       "conv", "(kh, kw), s, d, (h_out, w_out))", "(kh, kw), s, (1, 1), (h_out, w_out))"),
    _M("conv_backward_wrong_stride", "conv", "col2im puts the columns back at stride 1",
       "conv", ADD_WINDOWS_CALL, COL2IM_TARGET + "(1, 1), d)"),
    _M("conv_drops_db", "conv", "the bias gradient is never computed (db is None)",
       "conv", "db = dout.sum(axis=(0, 2, 3)) if has_bias and need_db else None", "db = None"),
    _M("conv_db_wrong_axes", "conv", "db sums over channels and space instead of batch and space",
       "conv", "dout.sum(axis=(0, 2, 3))", "dout.sum(axis=(1, 2, 3))"),
    _M("conv_ignores_groups", "conv", "groups is accepted but the convolution runs as groups=1",
       "conv", "    n = x.shape[0]\n", "    n, groups = x.shape[0], 1\n"),
    _M("conv_same_padding_wrong_side", "conv", "'same' puts the odd padding pixel top/left instead of bottom/right",
       "conv", "pads.append((total // 2, total - total // 2))", "pads.append((total - total // 2, total // 2))"),
    _M("conv_output_size_off_by_one", "conv", "conv_output_size forgets the + 1: (W - F + 2P) // S",
       "conv", "return room // stride + 1", "return room // stride"),
    _M("conv_forward_float64", "conv", "the forward pass upcasts float32 weights to float64",
       "conv", "xp.matmul(w.reshape(groups, c_out // groups, c_g * kh * kw), cols)",
       "xp.matmul(w.reshape(groups, c_out // groups, c_g * kh * kw).astype(float), cols)"),
    _M("conv_backward_float64", "conv", "dx_pad is allocated with zeros' default dtype float64",
       "conv", "w_in + left + right, n), dtype=dout.dtype)", "w_in + left + right, n))"),
    _M("conv_same_ignores_dilation", "conv", "'same' pads K - 1 in all instead of D·(K - 1); the output shrinks",
       "conv", ("total = max((out - 1) * s_i + d_i * (k - 1) + 1 - size, 0)", "out_hw.append(out)"),
       ("total = max((out - 1) * s_i + (k - 1) + 1 - size, 0)",
        "out_hw.append((size + sum(pads[-1]) - d_i * (k - 1) - 1) // s_i + 1)")),
    _M("conv_stride_height_for_both", "conv", "a stride pair (S_h, S_w) is applied as S_h along both axes",
       "conv", CONV_STRIDE_DILATION, 's, d = (pair(stride, "stride")[0],) * 2, pair(dilation, "dilation")'),
    _M("conv_dilation_height_for_both", "conv", "a dilation pair (D_h, D_w) is applied as D_h along both axes",
       "conv", CONV_STRIDE_DILATION, 's, d = pair(stride, "stride"), (pair(dilation, "dilation")[0],) * 2'),
    _M("conv_padding_height_for_both", "conv", "a padding pair (P_h, P_w) is applied as P_h along both axes",
       "conv", 'else pair(padding, "padding", minimum=0)', 'else (pair(padding, "padding", minimum=0)[0],) * 2'),
    _M("conv_arguments_unchecked", "conv", "x, w, b and groups are not checked: NumPy's own errors name no argument",
       "conv", "    _check_conv_args(x, w, b, groups)\n", ""),
    _M("conv_output_size_accepts_stride_0", "conv", "conv_output_size lets stride 0 through (ZeroDivisionError)",
       "conv", 'require_int(stride, "stride", 1)', 'require_int(stride, "stride", 0)'),
    _M("conv1d_ignores_dilation", "conv", "conv1d calls conv2d without its dilation",
       "conv", "(1, s), p, (1, d), groups)", "(1, s), p, (1, 1), groups)"),
    # ----- pooling -----
    _M("pool_overlap_assigns", "pooling", "col2im assigns (=) instead of adding (+=): overlapping windows lose "
       "gradient", "pooling", "dx_pad[:, :, rows, cols] += dwin", "dx_pad[:, :, rows, cols] = dwin"),
    _M("pool_ties_double_counted", "pooling", "every input equal to the window's max gets the gradient",
       "pooling", "winner = (entry == out) & ~taken", "winner = entry == out"),
    _M("pool_ties_to_last_max", "pooling", "a tie's gradient goes to the last max (>= instead of >)",
       "pooling", (FIRST_MAX_LOOP, "xp.stack(first_max)"),
       ("    for entry in slices[::-1]:\n        winner", "xp.stack(first_max[::-1])")),
    _M("pool_avg_ignores_padding", "pooling", "average pooling divides by the number of real inputs, not KH·KW",
       "pooling", "divisor = cache.kernel[0] * cache.kernel[1] if mean else None",
       "divisor = _windows(array_module(x).ones_like(x), kernel_size, stride, padding, fill=0.0)[0]"
       ".sum(axis=(2, 3)) if mean else None"),
    _M("pool_max_pads_with_zero", "pooling", "max pooling pads with 0 instead of -inf",
       "pooling", 'fill=float("-inf")', "fill=0.0"),
    _M("pool_stride_defaults_to_1", "pooling", "stride=None means 1 instead of the window size",
       "pooling", "s = k if stride is None", "s = (1, 1) if stride is None"),
    _M("pool_avg_backward_not_divided", "pooling", "average pooling's backward forgets the 1/(KH·KW)",
       "pooling", "share = dout if cache.saved is None else dout / cache.saved", "share = dout"),
    # the input is padded on the far sides so that the extra windows stay inside it (as slicing would)
    _M("pool_width_from_height", "pooling", "the output width is computed from the window's height",
       "pooling", ("out_hw = tuple(conv_output_size(size, k_i, s_i, p_i) for size, k_i, s_i, p_i in "
                   "zip(x.shape[2:], k, s, p))",
                   "x_pad = xp.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill) "
                   "if any(p) else x"),
       ("out_hw = tuple(conv_output_size(size, k[0], s_i, p_i) for size, s_i, p_i in zip(x.shape[2:], s, p))",
        "x_pad = xp.pad(x, ((0, 0), (0, 0), (p[0], p[0] + k[1]), (p[1], p[1] + k[1])), constant_values=fill)")),
    _M("pool_stride_height_for_both", "pooling", "a stride pair (S_h, S_w) is applied as S_h along both axes",
       "pooling", 's = k if stride is None else pair(stride, "stride")',
       's = k if stride is None else (pair(stride, "stride")[0],) * 2'),
    _M("pool_padding_height_for_both", "pooling", "a padding pair (P_h, P_w) is applied as P_h along both axes",
       "pooling", 'p = pair(padding, "padding", minimum=0)', 'p = (pair(padding, "padding", minimum=0)[0],) * 2'),
    _M("pool_padding_checked_along_height_only", "pooling", "2·P <= F is checked for the height only",
       "pooling", "if 2 * p[0] > k[0] or 2 * p[1] > k[1]:", "if 2 * p[0] > k[0]:"),
    _M("pool_max_forward_float64", "pooling", "max pooling's output is float64 for float32 input",
       "pooling", "out = slices[0].copy()", "out = slices[0].astype(xp.float64)"),
    _M("pool_avg_forward_float64", "pooling", "average pooling divides by a float64 count: float32 becomes float64",
       "pooling", "out = out / divisor", "out = out / array_module(x).float64(divisor)"),
    _M("pool_backward_float64", "pooling", "dx is allocated with zeros' default dtype float64",
       "pooling", "dx_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dwin.dtype)",
       "dx_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw))"),
    _M("pool_avg_backward_divides_dout_in_place", "pooling", "average pooling's backward divides dout in place",
       "pooling", "share = dout if cache.saved is None else dout / cache.saved",
       "share = dout\n    if cache.saved is not None:\n        share /= cache.saved"),
    _M("pool_ties_first_in_column_major_order", "pooling", "a tie's gradient goes to the first max column by column",
       "pooling", (FIRST_MAX_LOOP, "first_max.append(winner)", "xp.stack(first_max)"),
       ("    kh, kw = windows.shape[2:4]\n    by_offset = {}\n"
        "    for offset in [i * kw + j for j in range(kw) for i in range(kh)]:\n"
        "        entry = slices[offset]\n        winner",
        "by_offset[offset] = winner", "xp.stack([by_offset[o] for o in range(kh * kw)])")),
    # ----- relu -----
    _M("relu_gradient_one_at_zero", "relu", "the gradient is 1 at x == 0 (x >= 0 instead of x > 0)",
       "relu", "positive = x > 0", "positive = x >= 0"),
    _M("relu_gradient_from_dout_sign", "relu", "backward masks by the sign of dout instead of the input's",
       "relu", RELU_BACKWARD, "return dout * (dout > 0)"),
    _M("relu_modifies_its_input", "relu", "forward zeroes the negatives of x in place and returns x",
       "relu", RELU_OUT, "x[~positive] = 0\n    return x, positive"),
    _M("relu_forward_float64", "relu", "forward compares with float64 zeros: float32 input gives float64",
       "relu", RELU_OUT, "return xp.maximum(x, xp.zeros(x.shape)), positive"),
    _M("relu_backward_float64", "relu", "backward multiplies by a float64 mask: float32 dout gives float64",
       "relu", RELU_BACKWARD, "return dout * positive.astype(float)"),
    _M("relu_backward_modifies_dout", "relu", "backward zeroes the blocked entries of dout in place",
       "relu", RELU_BACKWARD, "dout[~positive] = 0\n    return dout"),
    # ----- softmax_ce -----
    _M("softmax_without_max_shift", "softmax_ce", "softmax exponentiates x without subtracting the max",
       "softmax_ce", SOFTMAX_EXP, "e = xp.exp(x)"),
    _M("softmax_batch_wide_shift", "softmax_ce", "softmax subtracts the batch's max, not each row's",
       "softmax_ce", SOFTMAX_EXP, "e = xp.exp(x - x.max())"),
    _M("softmax_shift_along_last_axis", "softmax_ce", "softmax subtracts the max along the last axis, not along axis",
       "softmax_ce", SOFTMAX_EXP, "e = xp.exp(x - x.max(axis=-1, keepdims=True))"),
    _M("softmax_modifies_its_input", "softmax_ce", "softmax subtracts the max from x in place",
       "softmax_ce", SOFTMAX_EXP, "x -= x.max(axis=axis, keepdims=True)\n    e = xp.exp(x)"),
    _M("softmax_float64", "softmax_ce", "softmax exponentiates in float64: float32 logits give float64",
       "softmax_ce", SOFTMAX_EXP, "e = xp.exp((x - x.max(axis=axis, keepdims=True)).astype(xp.float64))"),
    _M("log_softmax_without_max_shift", "softmax_ce", "log_softmax takes log Σ e^x without subtracting the max",
       "softmax_ce", LOG_SOFTMAX_SHIFT, "shifted = x"),
    _M("log_softmax_batch_wide_shift", "softmax_ce", "log_softmax subtracts the batch's max, not each row's",
       "softmax_ce", LOG_SOFTMAX_SHIFT, "shifted = x - x.max()"),
    _M("log_softmax_as_log_of_softmax", "softmax_ce", "log_softmax is log(softmax(x)): -inf where softmax underflows",
       "softmax_ce", "return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))",
       "return xp.log(softmax(x, axis))"),
    _M("log_softmax_modifies_its_input", "softmax_ce", "log_softmax subtracts the max from x in place",
       "softmax_ce", LOG_SOFTMAX_SHIFT, "x -= x.max(axis=axis, keepdims=True)\n    shifted = x"),
    _M("ce_modifies_the_logits", "softmax_ce", "cross-entropy subtracts each row's max from the logits in place",
       "softmax_ce", CE_LOG_P, "logits -= logits.max(axis=1, keepdims=True)\n    " + CE_LOG_P),
    _M("ce_log_of_softmax", "softmax_ce", "the loss takes log(softmax): inf where a probability underflows",
       "softmax_ce", CE_LOG_P, "log_p = xp.log(softmax(logits, axis=1))"),
    _M("ce_gradient_float64", "softmax_ce", "backward subtracts a float64 one-hot matrix: float32 becomes float64",
       "softmax_ce", "dlogits = xp.exp(log_p)\n    dlogits[xp.arange(n), labels] -= 1",
       "onehot = xp.zeros(log_p.shape)\n    onehot[xp.arange(n), labels] = 1\n    dlogits = xp.exp(log_p) - onehot"),
    _M("ce_negative_labels_accepted", "softmax_ce", "negative labels are not refused (they index from the end)",
       "softmax_ce", "if bool((labels < 0).any()) or bool((labels >= k).any()):", "if bool((labels >= k).any()):"),
    _M("ce_float_labels_accepted", "softmax_ce", "float labels are not refused with a TypeError",
       "softmax_ce", 'if labels.dtype.kind not in "iu":', 'if labels.dtype.kind not in "iuf":'),
    _M("ce_loss_summed", "softmax_ce", "the loss is summed over the batch instead of averaged",
       "softmax_ce", "loss = -log_p[rows, labels].mean()", "loss = -log_p[rows, labels].sum()"),
    _M("ce_gradient_not_divided_by_n", "softmax_ce", "the gradient is not divided by the batch size N",
       "softmax_ce", CE_RETURN, "return dlogits * dloss"),
    _M("ce_log_softmax_wrong_axis", "softmax_ce", "cross-entropy takes log_softmax over the batch axis",
       "softmax_ce", CE_LOG_P, "log_p = log_softmax(logits, axis=0)"),
    _M("ce_labels_not_validated", "softmax_ce", "labels outside [0, K) are not refused with a ValueError",
       "softmax_ce", "if bool((labels < 0).any()) or bool((labels >= k).any()):", "if False:  # labels trusted"),
    _M("ce_gradient_ignores_dloss", "softmax_ce", "backward drops the upstream gradient dloss",
       "softmax_ce", CE_RETURN, "return dlogits / n"),
    # ----- residual -----
    _M("residual_projection_without_batchnorm", "residual", "the projection shortcut is a 1×1 conv only",
       "residual", "bias=False),\n" + " " * 42 + "nn.BatchNorm2d(out_channels))", "bias=False))"),
    _M("residual_shortcut_without_stride", "residual", "the projection's 1×1 conv has no stride",
       "residual", "1, stride=stride, bias=False", "1, bias=False"),
    _M("residual_relu_before_addition", "residual", "ReLU on the residual before the addition, not after",
       "residual", FINAL_RELU, "return F.relu(residual) + skip"),
    _M("residual_missing_final_relu", "residual", "no ReLU after the addition",
       "residual", FINAL_RELU, "return residual + skip"),
    _M("residual_conv2_with_stride", "residual", "conv2 is strided too, so a stride-2 block downsamples twice",
       "residual", "3, padding=1, bias=False)", "3, stride=stride, padding=1, bias=False)"),
    _M("residual_projection_always", "residual", "a projection shortcut even when the shapes agree",
       "residual", "if stride == 1 and in_channels == out_channels:", "if False:  # always project"),
)

BY_NAME: dict[str, Mutant] = {mutant.name: mutant for mutant in MUTANTS}
