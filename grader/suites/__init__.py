"""Test suites: public (students run them with `grader check`) and hidden (graded later)."""
