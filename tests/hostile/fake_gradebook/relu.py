"""Attack: write a fake gradebook, grades.csv and results.json wherever a grader might look: the working
directory and every directory above it, $HOME, /tmp, the test's canary directory and where Gradescope reads
results.json (/autograder/results). The kernels are wrong.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

import numpy as np

FAKE = {"score": 100.0, "tests": [{"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed"}]}


def _targets() -> list[str]:
    places = [os.getcwd(), os.environ.get("HOME", "."), "/tmp", "@CANARY_DIR@", "@RESULTS@"]
    here = os.getcwd()
    while here != "/":
        here = os.path.dirname(here)
        places.append(here)
    return places


def _forge() -> None:
    for place in _targets():
        for name, text in (("results.json", json.dumps(FAKE)), ("grades.csv", "student,total\nme,100\n")):
            try:
                with open(os.path.join(place, name), "w") as f:
                    f.write(text)
            except OSError:
                pass
        try:
            db = sqlite3.connect(os.path.join(place, "gradebook.sqlite"))
            db.execute("CREATE TABLE IF NOT EXISTS submissions (student TEXT, score REAL)")
            db.execute("INSERT INTO submissions VALUES ('me', 100)")
            db.commit()
            db.close()
        except Exception:
            pass


_forge()


def relu_forward(x: Any) -> tuple[Any, Any]:
    """Wrong, and forges again."""
    _forge()
    return np.ones_like(x), None


def relu_backward(dout: Any, cache: Any) -> Any:
    """Wrong."""
    return np.ones_like(dout)
