"""Attack: sys.exit() at import."""

from __future__ import annotations

import sys

sys.exit(0)
