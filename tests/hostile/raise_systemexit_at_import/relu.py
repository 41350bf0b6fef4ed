"""Attack: raise SystemExit at import."""

from __future__ import annotations

raise SystemExit(3)
