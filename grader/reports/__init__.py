"""Everything written for people from stored results: ``text`` (tables, feedback, one-line summaries),
``html`` with ``charts`` (the instructor's report), ``canvas`` (the LMS CSV) and ``publish`` (the files of
a gradebook folder, written once after a batch)."""
