"""Reference implementations of the exercises: the same signatures as ``exercises/``, vectorised and exact."""
