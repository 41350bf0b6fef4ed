"""Exports of the grader for other platforms: ``grader export gradescope`` (an autograder zip) and
``grader export github-classroom`` (a workflow and autograding.json). The LMS CSV is ``grader.reports.canvas``."""
