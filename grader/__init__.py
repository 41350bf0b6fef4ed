"""The kit's sandboxed grader: ``grader check`` (students, public tests) and ``grader grade`` (instructors).

Student code runs only in a runner process; the judge (pytest over a suite) decides. See
``docs/grader-design.md``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
