"""The student's commands: ``check`` (public tests, offline; a table in a terminal, ``check_html`` in
Jupyter) and ``pack`` (a submission zip with a manifest)."""
