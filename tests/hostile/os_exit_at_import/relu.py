"""Attack: os._exit() at import: the runner dies without a word."""

from __future__ import annotations

import os

os._exit(0)
