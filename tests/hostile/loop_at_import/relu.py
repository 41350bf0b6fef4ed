"""Attack: an infinite loop at import. Every test of the exercise times out (the first after its deadline,
the rest at once: an import that hung is not retried)."""

from __future__ import annotations

while True:
    pass
