"""The judge's defences against a hostile runner that need no runner: the wire format refuses what it
cannot trust, and what the runner says about an object (its labels) decides how the judge compares it."""

from __future__ import annotations

import io
import json
import struct
import sys

import numpy as np
import pytest

from grader.jail.proxy import Handle
from grader.judge import compare
from grader.runner import audit, wire, worker

# ----- the wire, against a hostile runner -----

def _frame(header: dict, blob: bytes) -> io.BytesIO:
    body = json.dumps(header).encode()
    return io.BytesIO(struct.pack(">I", len(body)) + body + struct.pack(">I", len(blob)) + blob)


def _arrays_frame(listed: object, blob: bytes) -> io.BytesIO:
    return _frame({"ok": True, wire.ARRAYS: listed}, blob)


def test_the_wire_round_trips_plain_arrays():
    arrays = {"a0": np.arange(12.0).reshape(3, 4), "a1": np.asfortranarray(np.ones((2, 3), np.float32)),
              "a2": np.zeros((0, 5), np.int64), "a3": np.array(3.5), "a4": np.arange(10)[::3],
              "a5": np.array(["ab", "c"]), "a6": np.array([True, False])}
    stream = io.BytesIO()
    wire.write_frame(stream, {"x": 1}, arrays)
    stream.seek(0)
    header, back = wire.read_frame(stream)
    assert header == {"x": 1}
    for key, value in arrays.items():
        assert back[key].dtype == value.dtype and back[key].shape == value.shape and back[key].flags.writeable
        np.testing.assert_array_equal(back[key], value)
    assert back["a1"].flags.f_contiguous and not back["a1"].flags.c_contiguous  # the layout is kept too


@pytest.mark.parametrize(("listed", "blob"), [
    ([["a0", "<f8", [10**6, 10**6], False]], np.zeros(4).tobytes()),  # claims far more than it sent
    ([["a0", "<f8", [4], False]], np.zeros(5).tobytes()),  # bytes nobody accounts for
    ([["a0", "<f8", [-4], False]], b""),  # a negative size
    ([["a0", "|O", [1], False]], b"\0" * 8),  # Python objects
    ([["a0", "[('a', '<f8')]", [1], False]], b"\0" * 8),  # records
    ([["a0", "|V8", [1], False]], b"\0" * 8),  # void
    ([["a0", "not a dtype", [1], False]], b"\0" * 8),
    ([["a0", "<f8", [1] * 40, False]], b"\0" * 8),  # too many dimensions
    ([["a0", "<f8", [1]]], b"\0" * 8),  # an entry of the wrong form
    ("a0", b""),
], ids=["shape_bomb", "extra_bytes", "negative", "object", "record", "void", "garbage_dtype", "dims", "entry",
        "not_a_list"])
def test_the_wire_refuses_hostile_array_lists(listed, blob):
    with pytest.raises(wire.WireError):
        wire.read_frame(_arrays_frame(listed, blob))


def test_the_wire_refuses_deep_nesting_and_too_many_arrays():
    nested: list = []
    for _ in range(200):
        nested = [nested]
    with pytest.raises(wire.WireError):
        wire.unpack(nested, {})
    deep = "[" * 100_000 + "]" * 100_000
    stream = io.BytesIO(struct.pack(">I", len(deep)) + deep.encode() + struct.pack(">I", 0))
    with pytest.raises(wire.WireError):
        wire.read_frame(stream)
    with pytest.raises(wire.WireError):
        wire.read_frame(_arrays_frame([[f"a{i}", "<f8", [0], False] for i in range(wire.MAX_ARRAYS + 1)], b""))


# ----- labels: what the runner says about an object, and what the judge makes of it -----

class _Lying(np.ndarray):
    def __eq__(self, other):
        return True

    __hash__ = None


class _Int(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def test_the_runner_describes_disguised_objects():
    import dataclasses

    import minigrad

    @dataclasses.dataclass
    class Cache:
        x: int

    cases = {
        "lying subclass": (np.zeros(3).view(_Lying), {"ndarray_subclass", "overrides"}),
        "int subclass": (_Int(0), {"overrides"}),
        "masked array": (np.ma.zeros(3), {"numpy_subclass"}),
        "plain object array": (np.array([1, "a"], dtype=object), {"object_array"}),
        "tuple": ((1, 2), set()),
        "dataclass cache": (Cache(1), set()),
        "minigrad tensor": (minigrad.tensor(np.zeros(2)), set()),
    }
    for name, (value, flags) in cases.items():
        assert set(worker.describe(value).get("flags", ())) == flags, name
    assert worker.describe(_Int(0)) == {"type": "_Int", "flags": ["overrides"], "overrides": ["__eq__"]}
    array = np.empty(2, dtype=object)
    array[...] = _Int(1)
    assert set(worker.describe(array)["flags"]) == {"object_array", "overrides"}


def test_a_disguised_result_is_tampering_and_a_plain_mistake_is_not():
    compare.reset_tampering()
    disguised = Handle(1, "LyingArray", ("ndarray_subclass", "overrides"), ("__eq__", "__array_ufunc__"))
    with pytest.raises(compare.TamperingDetected, match=r"ndarray subclass .*__eq__"):
        compare.assert_array_matches("out", disguised, np.zeros(3), source="relu_forward")
    with pytest.raises(compare.TamperingDetected):
        compare.assert_value_equals("size", Handle(2, "Int", ("overrides",), ("__eq__",)), 3)
    assert len(compare.tampering_seen()) == 2
    compare.reset_tampering()
    for honest in (Handle(3, "ndarray", ("object_array",)), Handle(4, "MaskedArray", ("numpy_subclass",)),
                   Handle(5, "tuple"), None, [1, 2]):
        with pytest.raises(AssertionError) as err:
            compare.assert_array_matches("out", honest, np.zeros(3), source="relu_forward")
        assert not isinstance(err.value, compare.TamperingDetected)
    assert compare.tampering_seen() == []


def test_the_worker_notes_are_only_for_student_frames():
    audit.NOTES.clear()
    frame = sys._getframe()
    assert not audit._student_frame(frame)
    scope = {"__name__": "exercises.relu"}
    exec("import sys\ndef f():\n    return sys._getframe()\n", scope)
    assert audit._student_frame(scope["f"]())
    audit.NOTES.clear()
