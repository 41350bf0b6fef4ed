"""Attack: KeyboardInterrupt at import."""

from __future__ import annotations

raise KeyboardInterrupt
