"""The untrusted side of grading: a worker process that imports a submission and answers calls.

``wire.py`` (the frame format) and ``worker.py`` are copied into each runner's staging directory and run
there with ``python -I -S``; they import nothing from ``grader`` so the runner never sees the judge.
"""
