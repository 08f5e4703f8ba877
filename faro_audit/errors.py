"""Error types.

Every error a user can cause is a :class:`FaroInputError` (bad data, bad file) or a
:class:`FaroUsageError` (bad option). Their message is one line that names the file, column,
row or option, what was found, and how to fix it. The CLI prints it without a traceback and
exits with code 2 (SPEC §8).
"""

from __future__ import annotations


class FaroError(Exception):
    """Base class of every error faro-audit raises on purpose."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        # One line, always: the CLI prints str(err) as is.
        super().__init__(" ".join(str(message).split()))


class FaroInputError(FaroError, ValueError):
    """The data (a file, a column, a row) cannot be used as given."""


class FaroUsageError(FaroError, ValueError):
    """An option or argument has a value that cannot be used."""
