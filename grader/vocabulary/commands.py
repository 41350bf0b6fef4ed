"""What every ``grader`` command shares: its parser's one-line errors, argument types, and the two ways a
command stops early (exit status 2 for misuse, 128 + the signal for Ctrl-C or SIGTERM)."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import NoReturn


class Misuse(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the command stops; ``note`` says what was kept."""

    def __init__(self, signum: int = signal.SIGINT, note: str = "") -> None:
        super().__init__(signum, note)
        self.signum, self.note = signum, note


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive(kind: type) -> Callable[[str], float]:
    """An argparse type: ``kind`` (int or float) above zero, else a one-line error naming the text."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value
    parse.__name__ = kind.__name__
    return parse
