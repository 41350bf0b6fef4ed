"""grader.vocabulary.options: the judge's options and the runners' limits, each default declared once, and
crossing into the judge as one JSON value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.jail.proxy import DEFAULT_LIMITS
from grader.vocabulary.kit import JUDGE_INI, KIT
from grader.vocabulary.options import JudgeOptions, Limits

GRADER = KIT / "grader"
LIMIT_NAMES = r"memory_mb|cpu_seconds|file_size_mb|open_files|processes|address_space|file_size"
DEFAULT = r"(4096|300|16|256|64)\b"
# a limit's default written outside options.py: `memory_mb: int = 4096`, `"open_files": 256`, `cpu_seconds=300`,
# `getattr(args, "processes", 64)`, `"file_size": 16 * 1024 * 1024`, or a flag `--memory-mb ... default=4096`
STRAY = [re.compile(rf"\b({LIMIT_NAMES})\b[\"']?\s*(:\s*int\s*)?[:=,]\s*(int\s*=\s*)?{DEFAULT}"),
         re.compile(r"[\"']--(memory-mb|cpu-seconds|file-size-mb|open-files|processes)[\"'].*\bdefault\s*=\s*\d")]


def stray_limits(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in STRAY)]


def test_each_limit_default_is_written_once():
    """Only grader/vocabulary/options.py declares the limits' defaults; everything else derives from it."""
    found = [f"{path.relative_to(KIT)}: {line}" for path in sorted(GRADER.rglob("*.py"))
             if path != GRADER / "vocabulary" / "options.py" and "suites" not in path.relative_to(GRADER).parts
             for line in stray_limits(path.read_text("utf-8"))]
    assert not found, "a limit default declared again (use grader.vocabulary.options.Limits):\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    'DEFAULT_LIMITS = {"address_space": 4096 * 1024 * 1024, "cpu_seconds": 300, "file_size": 16 * 1024 * 1024,',
    '                  "open_files": 256, "processes": 64}',
    '    limits.add_argument("--memory-mb", type=_positive(int), default=4096, metavar="MB", help="address space")',
    '    group.addoption("--processes", type=int, default=64,',
    '        open_files=getattr(args, "open_files", 256), processes=getattr(args, "processes", 64),',
    '              memory_mb: int = 4096, cpu_seconds: int = 300, file_size_mb: int = 16, open_files: int = 256,',
])
def test_the_check_finds_the_declarations_it_replaced(line):
    assert stray_limits(line)


@pytest.mark.parametrize("line", ["MAX_DEPTH = 64  # containers inside containers", "OUTPUT_LIMIT = 64 * 1024",
                                  "MAX_MEMBER_BYTES = 16 << 20", "TMPFS_BYTES = 64 * 1024 * 1024",
                                  "capture_output=True, text=True, timeout=300)", "MAX_CACHES = 4096"])
def test_the_check_leaves_other_numbers_alone(line):
    assert not stray_limits(line)


def test_the_runners_rlimits_come_from_limits():
    assert DEFAULT_LIMITS == Limits().rlimits() == {
        "address_space": Limits.memory_mb << 20, "cpu_seconds": Limits.cpu_seconds,
        "file_size": Limits.file_size_mb << 20, "open_files": Limits.open_files, "processes": Limits.processes}
    assert Limits(memory_mb=512).rlimits()["address_space"] == 512 << 20


def test_the_cli_defaults_are_the_options_defaults():
    parser = cli.build_parser()
    args = parser.parse_args(["grade", "s1", "--out", "o"])
    assert cli.judge_options(args) == JudgeOptions()
    args = parser.parse_args(["grade", "s1", "--out", "o", "--memory-mb", "512", "--processes", "8", "--seed", "3"])
    assert cli.judge_options(args) == JudgeOptions(base_seed=3, limits=Limits(memory_mb=512, processes=8))
    export = cli.judge_options(parser.parse_args(["export", "gradescope"]))
    assert export.total_timeout == 480.0 and export.limits == Limits()


def test_options_cross_a_process_boundary_as_json():
    options = JudgeOptions(test_timeout=2.5, total_timeout=60, base_seed=-7, sandbox="bwrap",
                           limits=Limits(memory_mb=1024, cpu_seconds=9, file_size_mb=1, open_files=32, processes=4))
    assert JudgeOptions.from_json(options.to_json()) == options
    assert JudgeOptions.from_json("{}") == JudgeOptions()
    assert JudgeOptions.from_json('{"limits": {"open_files": 99}}').limits == Limits(open_files=99)


@pytest.mark.parametrize(("text", "field"), [
    ('{"test_timeout": -1}', "test_timeout"), ('{"total_timeout": "soon"}', "total_timeout"),
    ('{"base_seed": 1.5}', "base_seed"), ('{"sandbox": 3}', "sandbox"), ('{"limits": {"memory_mb": 0}}', "memory_mb"),
    ('{"limits": {"processes": true}}', "processes"), ('{"limits": {"cpu_minutes": 1}}', "cpu_minutes"),
    ('{"seed": 1}', "seed"), ('{"limits": []}', "limits"), ("[1]", "object"), ("{", "not JSON"),
])
def test_bad_options_are_one_line_naming_the_field(text, field):
    with pytest.raises(ValueError) as caught:
        JudgeOptions.from_json(text)
    assert field in str(caught.value) and "\n" not in str(caught.value)


def test_the_judge_refuses_bad_options_in_one_line(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "grader.judge.plugin", "-c", str(JUDGE_INI),
                           "--rootdir", str(tmp_path), "-p", "no:cacheprovider", "--submission", str(tmp_path),
                           "--results", str(tmp_path / "r.json"), "--grader-options", '{"limits": {"open_files": 0}}',
                           str(tmp_path / "test_x.py")], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                               "PYTHONPATH": str(KIT)})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "open_files must be a positive integer, got 0" in proc.stderr
    assert not Path(tmp_path / "r.json").exists()
