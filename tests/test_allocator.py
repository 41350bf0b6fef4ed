"""minigrad.allocator: glibc keeps freed blocks for the next training step, unless told not to."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from minigrad import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _applied_on_import(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != allocator.ENV_VAR}
    if env_value is not None:
        env[allocator.ENV_VAR] = env_value
    code = "import minigrad; print(minigrad.allocator.is_keeping_freed_memory())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_settings_are_taken_by_glibc_and_can_be_undone() -> None:
    try:
        assert allocator.keep_freed_memory(False) is True
        assert not allocator.is_keeping_freed_memory()
        assert allocator.keep_freed_memory() is True
        assert allocator.is_keeping_freed_memory()
    finally:
        allocator.keep_freed_memory()


def test_import_applies_it_unless_the_environment_says_no() -> None:
    assert _applied_on_import(None) == str(GLIBC)
    assert _applied_on_import("1") == str(GLIBC)
    for off in ("0", "off", "False"):
        assert _applied_on_import(off) == "False"


def test_an_unknown_setting_warns_and_keeps_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(allocator.ENV_VAR, "banana")
    with pytest.warns(UserWarning, match="MINIGRAD_KEEP_MEMORY must be 1 or 0, got 'banana'"):
        assert allocator.apply_default() is GLIBC


def test_enable_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="enable must be True or False, got 'yes'"):
        allocator.keep_freed_memory("yes")  # type: ignore[arg-type]


def test_without_glibc_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("", ""))
    assert allocator.keep_freed_memory() is False
