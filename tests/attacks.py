"""The hostile submissions of tests/hostile/ (and the corpus' forgeries): what each attacks and must come to.

Shared by tests/test_hostile.py (graded beside a correct submission in each sandbox tier) and
tests/test_gradescope_container.py (graded as Gradescope runs them, in a container).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kit_copies import reference_submission

from grader.vocabulary.exercises import EXERCISES

KIT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
CORPUS = Path(__file__).resolve().parent / "grader_corpus"
IS_ROOT = os.geteuid() == 0
EVERY_MODULE = "_each.py"  # an attack file written as every exercise module


@dataclass(frozen=True)
class Attack:
    """An attack: where its files are, what it is graded with, and what must come of it."""

    source: Path
    exercise: str  # "*": every exercise
    statuses: tuple[str, ...]  # every attacked test ends with one of these
    signature: str  # and at least one with this one
    attacked: str = ""  # regex on node ids: the tests it attacks (default: all of the exercise's)
    suite: str = "hidden"
    mention: str = ""  # a word the attacked tests' output must contain
    sandbox_only: str = ""  # why only confinement stops it (then it is not run with rlimits only)
    extra: tuple[str, ...] = field(default=())  # extra checks, by name (see CHECKS)
    needs_seccomp: bool = False  # the uid tier stops it only with the network filter

    @property
    def exercises(self) -> tuple[str, ...]:
        return EXERCISES if self.exercise == "*" else (self.exercise,)


def _h(name: str) -> Path:
    return HOSTILE / name


ATTACKS = {
    "loop_at_import": Attack(_h("loop_at_import"), "relu", ("timeout",), "timeout", mention="timed out"),
    "loop_in_call": Attack(_h("loop_in_call"), "relu", ("timeout",), "timeout", attacked="backward",
                           suite="public"),
    "memory_bomb": Attack(_h("memory_bomb"), "relu", ("out_of_memory",), "out_of_memory", mention="MemoryError"),
    "fork_bomb": Attack(_h("fork_bomb"), "relu", ("timeout",), "timeout", attacked="backward", suite="public",
                        sandbox_only="" if not IS_ROOT else "RLIMIT_NPROC is not enforced for root without the "
                        "sandbox's own uid"),
    "sys_exit_at_import": Attack(_h("sys_exit_at_import"), "relu", ("error",), "error", mention="SystemExit"),
    "sys_exit_in_call": Attack(_h("sys_exit_in_call"), "relu", ("error",), "error", mention="SystemExit"),
    "raise_systemexit_at_import": Attack(_h("raise_systemexit_at_import"), "relu", ("error",), "error",
                                         mention="SystemExit: 3"),
    "raise_systemexit_in_call": Attack(_h("raise_systemexit_in_call"), "relu", ("error",), "error",
                                       mention="SystemExit: 3"),
    "keyboard_interrupt_at_import": Attack(_h("keyboard_interrupt_at_import"), "relu", ("error",), "error",
                                           mention="KeyboardInterrupt"),
    "keyboard_interrupt_in_call": Attack(_h("keyboard_interrupt_in_call"), "relu", ("error",), "error",
                                         mention="KeyboardInterrupt"),
    "os_exit_at_import": Attack(_h("os_exit_at_import"), "relu", ("crash",), "crash", mention="exited with status 0"),
    "os_exit_in_call": Attack(_h("os_exit_in_call"), "relu", ("crash",), "crash", mention="exited with status 0"),
    "stdout_flood": Attack(_h("stdout_flood"), "relu", ("passed",), "passed", suite="public",
                           extra=("output_capped",)),
    "forge_patched_asserts": Attack(CORPUS / "forge_patched_asserts", "relu", ("tampered",), "tampered",
                                    mention="patched"),
    "forge_runner_replies": Attack(_h("forge_runner_replies"), "relu", ("tampered",), "tampered",
                                   mention="forged the runner's replies"),
    "forge_stack_frames": Attack(CORPUS / "forge_stack_frames", "softmax_ce", ("tampered",), "tampered",
                                 mention="call stack"),
    "forge_results_file": Attack(CORPUS / "forge_results_file", "residual", ("tampered",), "tampered",
                                 mention="results file"),
    "fake_gradebook": Attack(_h("fake_gradebook"), "relu", ("tampered",), "tampered", mention="results file"),
    "read_kit_files": Attack(_h("read_kit_files"), "relu", ("tampered",), "tampered", mention="grader's files",
                             sandbox_only="without the sandbox the kit's files are readable"),
    "forge_import_solutions": Attack(CORPUS / "forge_import_solutions", "relu", ("tampered",), "tampered",
                                     sandbox_only="without the sandbox the judge's /proc entry is readable"),
    "forge_ndarray_subclass": Attack(CORPUS / "forge_ndarray_subclass", "pooling", ("tampered",), "tampered",
                                     attacked="pool_(forward|backward)", mention="defining __eq__"),
    "forge_always_equal": Attack(CORPUS / "forge_always_equal", "conv", ("tampered", "failed", "error"),
                                 "tampered", mention=""),
    "array_protocol": Attack(_h("array_protocol"), "relu", ("tampered", "failed"), "tampered",
                             mention="__array"),
    "wrong_values": Attack(_h("wrong_values"), "relu", ("failed",), "failed", attacked="relu_(forward|backward)"),
    "honest_unusual_code": Attack(_h("honest_unusual_code"), "relu", ("passed", "failed"), "failed",
                                  attacked="backward", extra=("nothing_noted",)),
    "mutates_its_input": Attack(CORPUS / "relu_modifies_its_input", "relu", ("failed",), "failed",
                                attacked="forward_does_not_modify", mention="modified its input"),
    "outlive_runner": Attack(_h("outlive_runner"), "relu", ("passed",), "passed", suite="public",
                             extra=("outlived",)),
    "leave_system_v_ipc": Attack(_h("leave_system_v_ipc"), "relu", ("passed",), "passed", suite="public",
                                 sandbox_only="with rlimits only a runner is the judge's own uid: what it leaves "
                                              "in System V IPC stays", extra=("no_ipc_left",)),
    "network": Attack(_h("network"), "relu", ("tampered",), "tampered", mention="network",
                      sandbox_only="without the sandbox the network is reachable", extra=("no_connection",),
                      needs_seccomp=True),
    "echo_reference_code": Attack(_h("echo_reference_code"), "*", ("error", "tampered", "timeout"), "tampered",
                                  sandbox_only="without the sandbox the kit's files are readable",
                                  extra=("nothing_leaked",)),
    # labelled tampered wherever the kit lies: one of its targets is a results.json, whose writing is noted
    "write_outside": Attack(_h("write_outside"), "relu", ("tampered", "failed"), "tampered",
                            sandbox_only="without the sandbox the host's files are writable"),
}
# also graded without bubblewrap (rlimits only): what rlimits, the judge and the labels handle alone
FALLBACK = ["loop_at_import", "loop_in_call", "memory_bomb", "fork_bomb", "sys_exit_in_call", "os_exit_at_import",
            "os_exit_in_call", "keyboard_interrupt_at_import", "stdout_flood", "forge_patched_asserts",
            "forge_stack_frames", "forge_ndarray_subclass", "array_protocol", "wrong_values", "honest_unusual_code",
            "outlive_runner"]


def materialize(attack: Attack, target: Path, placeholders: dict[str, str]) -> Path:
    """The reference submission with the attack's files in place of its own, placeholders filled in
    (an ``_each.py`` replaces every exercise module)."""
    reference_submission(target)
    for path in attack.source.glob("*.py"):
        text = path.read_text()
        for key, value in placeholders.items():
            text = text.replace(key, value)
        names = [f"{name}.py" for name in EXERCISES] if path.name == EVERY_MODULE else [path.name]
        for name in names:
            (target / name).write_text(text)
    return target


