"""Trusted comparisons of what a submission returned with what the reference computes.

Every check raises ``AssertionError`` with one short line a student can act on: which output, what is
wrong with it, and where. Values the reference computed are shown only with ``reveal=True`` (public
tests); hidden tests say how far off and where, never what was expected.

Everything a runner sends is re-validated here: a result must be an exact ``numpy.ndarray`` (the
proxy turns anything else — a cache, an ndarray subclass, an object with a lying ``__eq__`` — into an
opaque handle), and the comparison is done with NumPy on the judge's own copies.

A handle the runner describes as a disguise (an ndarray subclass from outside NumPy, a NumPy scalar
subclass, an object or object array whose class defines ``__array__``, ``__array_ufunc__``, ``__eq__`` and
the like) fails with :class:`TamperingDetected`, an ``AssertionError`` the plugin reports as tampered;
each one is also recorded (:func:`tampering_seen`) so that a suite that collects failures still reports it.
The description comes from the untrusted runner: it only ever changes the label of a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "TOLERANCES", "TamperingDetected", "assert_array_matches", "assert_inputs_unchanged", "assert_none",
    "assert_result_pair", "assert_result_tuple", "assert_same_keys", "assert_value_equals", "describe",
    "reset_tampering", "tampering_seen", "tolerances", "with_article",
]

DISGUISES = {"ndarray_subclass": "an ndarray subclass", "numpy_scalar_subclass": "a NumPy scalar subclass",
             "overrides": "an object"}
_tampering: list[str] = []


class TamperingDetected(AssertionError):
    """A submission returned an object pretending to be an array or a number."""


def reset_tampering() -> None:
    """Forget what :func:`tampering_seen` recorded (the plugin calls it before every test)."""
    _tampering.clear()


def tampering_seen() -> list[str]:
    """The tampering the comparisons have met since :func:`reset_tampering`, one line each."""
    return list(_tampering)


def _disguise(value: Any) -> str | None:
    """How a runner-side handle pretends to be data, or None (reads only the handle's labels)."""
    if type(value).__name__ != "Handle":
        return None
    flags = getattr(value, "flags", ())
    kinds = [DISGUISES[f] for f in flags if f in DISGUISES] if isinstance(flags, tuple) else []
    if not kinds:
        return None
    hooks = [h for h in getattr(value, "overrides", ()) if isinstance(h, str)]
    kind = kinds[0] if kinds[0] != "an object" or "object_array" not in flags else "an object array"
    return f"{kind} ({value.type_name}" + (f", defining {', '.join(hooks[:4])}" if hooks else "") + ")"


def _check_disguise(name: str, got: Any, source: str | None, expected: str) -> None:
    __tracebackhide__ = True
    disguise = _disguise(got)
    if disguise is not None:
        who = source or "the submission"
        message = f"{who} returned {disguise} for {name}, where {expected} was expected; no credit"
        _tampering.append(message)
        raise TamperingDetected(message)

# (rtol, atol) by the expected dtype: kernels in float64 agree with the reference to rounding
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-10, 1e-10),
    "float32": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3),
}


def tolerances(dtype: Any) -> tuple[float, float]:
    """The default (rtol, atol) for comparing values of ``dtype``."""
    return TOLERANCES.get(np.dtype(dtype).name, (0.0, 0.0))


def describe(value: Any) -> str:
    """A short, safe name for the kind of ``value`` (never calls the value's own methods)."""
    type_name = getattr(value, "type_name", None) if type(value).__name__ == "Handle" else None
    if isinstance(type_name, str):
        # an exact ndarray comes back as a handle only when its dtype cannot travel (objects)
        return "ndarray of Python objects" if type_name == "ndarray" else type_name
    if value is None:
        return "None"
    if type(value) in (list, tuple):
        return f"{type(value).__name__} of {len(value)} values"
    return type(value).__name__


def with_article(word: str) -> str:
    """``word`` with "a" or "an" in front ("None" stays as it is)."""
    if word == "None":
        return word
    return ("an " if word[:1].lower() in "aeiou" or word.startswith("nd") else "a ") + word


def _index(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _num(value: float) -> str:
    return f"{value:.3g}"


def _fail(message: str, hint: str | None) -> None:
    __tracebackhide__ = True
    raise AssertionError(f"{message} — {hint}" if hint else message)


def _prefix(name: str, source: str | None) -> str:
    return f"{source}: {name}" if source and source != name else name


def _wrong_kind(name: str, got: Any, source: str | None, expected: str, hint: str | None) -> None:
    """Fail because ``got`` is not the kind of value ``expected`` names ("a NumPy array", "None" ...)."""
    __tracebackhide__ = True
    kind = with_article(describe(got))
    if source:
        _fail(f"{source} returned {kind} for {name}, expected {expected}", hint)
    _fail(f"{name} is {kind}, expected {expected}", hint)


def assert_array_matches(name: str, got: Any, expected: Any, *, rtol: float | None = None,
                         atol: float | None = None, reveal: bool = False, source: str | None = None,
                         hint: str | None = None) -> None:
    """Check ``got`` against the reference ``expected``: type, then shape, dtype, finiteness and values.

    ``name`` is the output ("out", "dx" ...), ``source`` the student function that returned it.
    Tolerances default to the expected dtype's (see :data:`TOLERANCES`); integer and bool arrays must
    match exactly. Once ``got`` is an array, every property that fails is named in the one message
    (a wrong dtype *and* NaNs *and* wrong values), so a student never fixes one only to meet the next.
    ``reveal`` adds the expected value at the worst index (public tests only); ``hint`` is appended to
    any failure message.
    """
    __tracebackhide__ = True
    expected = np.asarray(expected)
    what = _prefix(name, source)
    _check_disguise(name, got, source, "a NumPy array")
    if type(got) is not np.ndarray:
        _wrong_kind(name, got, source, "a NumPy array", hint)
    problems = []
    same_shape = got.shape == expected.shape
    if not same_shape:
        problems.append(f"has shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if got.dtype != expected.dtype:
        upcast = expected.dtype == np.float32 and got.dtype == np.float64
        extra = " (float32 inputs must give float32 results: do not upcast)" if upcast else ""
        problems.append(f"has dtype {got.dtype}, expected {expected.dtype}{extra}")
    numeric = got.dtype.kind in _NUMERIC and expected.dtype.kind in _NUMERIC
    bad = _non_finite(got, expected, same_shape) if numeric else None
    if bad is not None and bad.any():
        problems.append(_non_finite_message(got, bad))
    if same_shape and numeric:
        values = _value_errors(got, expected, rtol, atol, bad, reveal)
        if values:
            problems.append(values)
    if problems:
        _fail(f"{what}{' ' if problems[0].startswith('has ') else ': '}" + "; ".join(problems), hint)


_NUMERIC = "biuf"  # complex, strings, dates ...: the dtype message says enough


def _non_finite(got: np.ndarray, expected: np.ndarray, same_shape: bool) -> np.ndarray | None:
    """Where ``got`` is NaN or ±inf and a finite value is expected (anywhere, if the shapes differ)."""
    if got.dtype.kind != "f":
        return None
    if same_shape:
        return ~np.isfinite(got) & np.isfinite(expected)
    return ~np.isfinite(got) if np.isfinite(expected).all() else None


def _non_finite_message(got: np.ndarray, bad: np.ndarray) -> str:
    n_bad = int(bad.sum())
    n_nan = int(np.isnan(got[bad]).sum())
    counts = " and ".join(f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (n_bad - n_nan, "inf")) if n)
    first = _index(int(np.flatnonzero(bad)[0]), got.shape)
    return f"has {counts} value{'s' if n_bad > 1 else ''} where finite ones are expected (first at {first})"


def _value_errors(got: np.ndarray, expected: np.ndarray, rtol: float | None, atol: float | None,
                  bad: np.ndarray | None, reveal: bool) -> str:
    """The worst absolute and relative error and how many values are off ("" when none), skipping ``bad``."""
    if "f" in (got.dtype.kind, expected.dtype.kind):
        default_rtol, default_atol = tolerances(expected.dtype)
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
        g, e = got.astype(np.float64), expected.astype(np.float64)
        same_special = (~np.isfinite(e)) & ((g == e) | (np.isnan(g) & np.isnan(e)))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            abs_err = np.where(same_special, 0.0, np.abs(g - e))
            abs_err = np.where(np.isnan(abs_err), np.inf, abs_err)
            magnitude = np.abs(np.where(np.isfinite(e), e, 0.0))
            off = abs_err > atol + rtol * magnitude
            # relative error only where it means something: expected values clearly away from 0
            rel_err = np.where(magnitude > atol, abs_err / np.where(magnitude > atol, magnitude, 1.0), -1.0)
    else:
        off = got != expected
        abs_err = off.astype(np.float64)
        rel_err = np.full(off.shape, -1.0)
    considered = got.size
    if bad is not None and bad.any():  # already reported as non-finite: judge the others
        off = off & ~bad
        considered -= int(bad.sum())
    n_off = int(np.count_nonzero(off))
    if not n_off:
        return ""
    worst = int(np.argmax(np.where(off, abs_err, -1.0)))
    rel_off = np.where(off, rel_err, -1.0)
    worst_rel = int(np.argmax(rel_off))
    rel = "" if rel_off.flat[worst_rel] < 0 else \
        f" (max rel error {_num(float(rel_off.flat[worst_rel]))} at {_index(worst_rel, got.shape)})"
    of = f"{n_off} of {'' if considered == got.size else 'the other '}{considered} values off"
    message = f"max abs error {_num(float(abs_err.flat[worst]))} at {_index(worst, got.shape)}{rel}; {of}"
    if reveal:
        message += (f"; at {_index(worst, got.shape)} expected {_num(float(expected.flat[worst]))}, "
                    f"got {_num(float(got.flat[worst]))}")
    return message


def assert_value_equals(name: str, got: Any, expected: Any, *, source: str | None = None, reveal: bool = False,
                        hint: str | None = None) -> None:
    """Check a plain value (an int, a bool, a list of str) for exact equality, by type first.

    A 0-d integer array is accepted for an int. The expected value is shown only with ``reveal``.
    """
    __tracebackhide__ = True
    kind = with_article(type(expected).__name__)
    _check_disguise(name, got, source, kind)
    if type(expected) is int and type(got) is np.ndarray and got.ndim == 0 and got.dtype.kind in "iu":
        got = int(got)
    if type(got) is not type(expected):
        _wrong_kind(name, got, source, kind, hint)
    if got != expected:
        verdict = f"expected {expected!r}" if reveal else "which is wrong"
        _fail(f"{_prefix(name, source)} is {got!r}, {verdict}", hint)


def assert_same_keys(name: str, got: Any, expected: Sequence[str], *, hint: str | None = None) -> None:
    """Check that ``got`` (a list of str, e.g. state_dict keys) holds exactly the names in ``expected``.

    The message names the missing and the unexpected keys (they are part of the exercise's spec).
    """
    __tracebackhide__ = True
    _check_disguise(name, got, None, "a list of names")
    if type(got) not in (list, tuple) or not all(type(k) is str for k in got):
        _wrong_kind(name, got, None, "a list of names", hint)
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    parts = [f"{verb} {', '.join(keys[:6])}" + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
             for verb, keys in (("lacks", missing), ("has unexpected", unexpected)) if keys]
    if parts:
        _fail(f"{name} {'; '.join(parts)}", hint)


def assert_result_tuple(source: str, result: Any, names: Sequence[str], hint: str | None = None) -> tuple[Any, ...]:
    """Check that ``source`` returned a tuple of ``len(names)`` items and return them as a tuple.

    Over the wire a tuple arrives as a list; anything else (one array, a dict, an object) fails here.
    """
    __tracebackhide__ = True
    spelled = "(" + ", ".join(names) + ")"
    _check_disguise("its result", result, source, f"a tuple {spelled}")
    if type(result) not in (list, tuple):
        _fail(f"{source} returned {with_article(describe(result))}, expected a tuple {spelled}", hint)
    if len(result) != len(names):
        _fail(f"{source} returned {len(result)} values, expected {len(names)}: {spelled}", hint)
    return tuple(result)


def assert_result_pair(name: str, result: Any, hint: str | None = None) -> tuple[Any, Any]:
    """Check that the forward function ``name`` returned a pair ``(out, cache)``; return it."""
    __tracebackhide__ = True
    out, cache = assert_result_tuple(name, result, ("out", "cache"), hint)
    return out, cache


def assert_none(name: str, got: Any, *, source: str | None = None, why: str = "",
                hint: str | None = None) -> None:
    """Check that ``got`` is None (e.g. db when the forward pass had no bias)."""
    __tracebackhide__ = True
    _check_disguise(name, got, source, "None")
    if got is not None:
        _wrong_kind(name, got, source, "None" + (f" ({why})" if why else ""), hint)


def assert_inputs_unchanged(source: str, names: Sequence[str], sent: Sequence[Any], after: Any,
                            hint: str | None = None) -> None:
    """Check that the arrays the runner held after calling ``source`` still equal what the judge sent.

    ``after`` is the runner's view of the positional arguments after the call (from
    ``student.<fn>.with_inputs``); only arguments that are arrays in ``sent`` are checked.
    """
    __tracebackhide__ = True
    if type(after) not in (list, tuple) or len(after) < len(sent):
        _fail(f"{source}: the runner could not report its inputs after the call (got {with_article(describe(after))})",
              hint)
    for name, before, now in zip(names, sent, after):
        if type(before) is not np.ndarray:
            continue
        _check_disguise(f"its input {name}", now, source, "the array it was given")
        if type(now) is not np.ndarray or now.shape != before.shape or now.dtype != before.dtype:
            _fail(f"{source} replaced its input {name} in place (it is now {with_article(describe(now))}"
                  f"{'' if type(now) is not np.ndarray else f' of shape {tuple(now.shape)}, {now.dtype}'})"
                  f"; never modify the arguments", hint)
        changed = ~((now == before) | (np.isnan(now) & np.isnan(before)) if before.dtype.kind in "fc"
                    else now == before)
        n = int(np.count_nonzero(changed))
        if n:
            first = _index(int(np.flatnonzero(changed)[0]), before.shape)
            _fail(f"{source} modified its input {name} in place ({n} of {before.size} values changed, "
                  f"first at {first}); work on a copy", hint)
