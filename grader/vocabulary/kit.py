"""Where the kit's parts lie, and which of them are the instructor's.

A student's handout and a Gradescope autograder are both "the kit without the instructor's folders":
:data:`INSTRUCTOR_PATHS` is the one list of what neither may contain (a handout also leaves out the
suites' recordings of hidden values; an autograder adds the recorded expected values it grades with).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import grader

#: the kit's root: the folder holding ``grader/``, ``minigrad/``, ``exercises/`` (and ``solutions/``)
KIT = Path(grader.__file__).resolve().parent.parent
SUITES_DIR = KIT / "grader" / "suites"
JUDGE_INI = KIT / "grader" / "judge" / "judge.ini"

#: relative to the kit: the reference, the hidden tests and the instructor's tools (release, self-test,
#: mutants, exports, integrity); nothing here reaches a student or a runner
INSTRUCTOR_TOOLS = "grader/instructor"
INSTRUCTOR_PATHS = ("solutions", INSTRUCTOR_TOOLS, "grader/suites/hidden")

#: relative to the kit: the code that decides a grade (the exercise table and weights, the judge, the jail
#: that stages and limits the runner, the runner, the suites, the reference and the engine); a change to any
#: file here changes ``grader_version()``, so a rerun regrades
GRADE_DECIDING = ("grader/vocabulary", "grader/judge", "grader/jail", "grader/runner", "grader/suites",
                  "solutions", "minigrad", "exercises/_utils.py")


def installed_exercises() -> Path | None:
    """The folder of the ``exercises`` package this Python imports (the checkout's), if there is one."""
    spec = importlib.util.find_spec("exercises")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))
