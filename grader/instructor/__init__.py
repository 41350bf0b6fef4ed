"""The instructor's tools, left out of every handout and autograder: ``release`` (the student handout),
``selftest`` with ``mutants`` (are the suites able to catch plausible bugs?), ``export`` (Gradescope and
GitHub Classroom) and ``integrity`` (flags and similar pairs for a person to review)."""
