"""The kit's sandboxed grader: ``grader check`` (students, public tests) and ``grader grade`` (instructors).

Student code runs only in a runner process; the judge (pytest over a suite) decides. See
``docs/grader.md``. From Python (a notebook cell, say)::

    from grader import check
    check("conv")      # the public tests of exercises/conv.py: a table in Jupyter, text elsewhere
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "check"]

if TYPE_CHECKING:
    from grader.student.check import CheckReport


def check(*exercises: str, dir: Any = None, test_timeout: float = 30.0) -> CheckReport:
    """Run the public tests of ``exercises`` (all when none are named); see :func:`grader.student.check.check`.

    Imported only when called: ``import grader`` stays light for the judge and runner processes.
    """
    from grader.student.check import check as run

    return run(*exercises, dir=dir, test_timeout=test_timeout)
