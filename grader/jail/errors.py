"""What the judge can be told about a runner: the errors a call ends with, and opaque handles.

A :class:`Handle` stands for an object that stays in the runner (a kernel's cache, or something a
submission made up); its ``flags`` come from the untrusted runner and only ever label a result.
"""

from __future__ import annotations

from typing import Any


class RunnerError(Exception):
    """Base class: something about the runner, not the judge, went wrong."""


class RunnerTimeout(RunnerError):
    """The runner did not answer in time (or used up its CPU time) and was killed."""


class RunnerCrashed(RunnerError):
    """The runner died (os._exit, a signal) or broke the protocol."""


class RunnerOutOfMemory(RunnerCrashed):
    """The runner was killed by SIGKILL without having used up its CPU time: out of memory."""


class StudentError(RunnerError):
    """The submission's code raised an exception."""

    def __init__(self, type_name: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name, self.message, self.traceback = type_name, message, traceback

    @property
    def not_implemented(self) -> bool:
        return self.type_name == "NotImplementedError"

    @property
    def out_of_memory(self) -> bool:
        return self.type_name == "MemoryError"


class Handle:
    """A runner-side object the judge can pass back but never look into.

    ``flags`` and ``overrides`` are what the runner said about it (``ndarray_subclass``, ``object_array``,
    ``overrides`` with the hooks its class defines ...): untrusted, for labelling only.
    """

    __slots__ = ("flags", "number", "overrides", "type_name")

    def __init__(self, number: int, type_name: str, flags: tuple[str, ...] = (),
                 overrides: tuple[str, ...] = ()) -> None:
        self.number, self.type_name, self.flags, self.overrides = number, type_name, flags, overrides

    def __repr__(self) -> str:
        return f"<runner-side {self.type_name}>"


def pack_handle(value: Any) -> dict[str, Any]:
    if isinstance(value, Handle):
        return {"__handle__": value.number}
    raise TypeError(f"the judge cannot send a {type(value).__name__} to the runner")


def short_strings(value: Any, limit: int = 10, length: int = 60) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v[:length] for v in value[:limit] if isinstance(v, str))


def unpack_handle(ref: dict[str, Any]) -> Handle:
    type_name = ref.get("type") if isinstance(ref.get("type"), str) else "object"
    flags, overrides = short_strings(ref.get("flags")), short_strings(ref.get("overrides"))
    return Handle(ref["__handle__"], type_name[:100], flags, overrides)
