"""The words every part of the grader shares: the exercise table (``exercises``), where the kit's parts lie
(``kit``), the options and limits of a grading run (``options``), and test results with their statuses
(``results``). Nothing here runs anything; every other folder of ``grader`` imports from here."""
