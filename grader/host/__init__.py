"""The grading machine's side: what the instructor's ``grader grade`` (and Gradescope's ``run_autograder``)
does around the judges. ``intake`` reads submissions, ``launch`` starts one judge process per suite,
``batch`` grades many submissions in parallel and ``gradebook`` stores the outcome; ``gradescope`` is the
same path inside Gradescope's container. Nothing here imports a submission."""
