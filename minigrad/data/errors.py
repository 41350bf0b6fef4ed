"""Errors raised by :mod:`minigrad.data`."""

from __future__ import annotations


class DatasetError(ValueError):
    """A data file is missing, corrupt, or does not hold what was expected.

    Subclasses ``ValueError`` so callers that already catch bad-input errors catch it too.
    """


class DatasetNotFoundError(DatasetError):
    """No copy of a data set was found and it could not be downloaded."""
