"""The judge: a pytest process over one suite. ``plugin`` runs the tests and builds their results,
``compare`` decides whether a value matches, ``reference`` gives the expected values (the solutions in
the kit, recordings elsewhere). It reaches a runner only through :mod:`grader.jail`."""
