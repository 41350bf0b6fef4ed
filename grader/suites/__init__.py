"""Test suites: public (students run them with `grader check`) and hidden (graded later).

``public/test_<exercise>.py`` and ``hidden/test_<exercise>.py`` are ordinary pytest files run by the judge
with ``grader.judge.plugin``; ``_support.py`` holds what they share. Suites run only in the judge: they
import ``solutions`` for expected values and reach the submission only through the ``student`` fixture.
"""
