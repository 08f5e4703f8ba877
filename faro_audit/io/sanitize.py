"""Make data values safe to echo in one-line messages (issue 12).

Column names, group values and cell text come from the user's files. Printed raw, a control
character (ESC sequences, carriage returns, C1 controls, bidi overrides) can retitle or clear a
terminal, or split a one-line error. :func:`printable` escapes every such character the way
:func:`repr` does, and nothing else (backslashes and ordinary Unicode are kept as they are).
"""

from __future__ import annotations

__all__ = ["printable"]


def _escape(ch: str) -> str:
    """The :func:`repr` escape of one non-printable character, without the quotes."""
    return repr(ch)[1:-1]


def printable(text: str, *, limit: int = 80) -> str:
    """``text`` with non-printable characters escaped repr-style and cut to ``limit`` characters.

    Parameters
    ----------
    text
        Any value; non-strings are converted with :func:`str`.
    limit
        Largest length of the result before the ``…`` marking a cut; ``0`` or less: no cut.
        An escape sequence is never split.

    Returns
    -------
    str
        The text with C0 and C1 controls, DEL, line/paragraph separators, format characters
        (bidi overrides, zero-width) and other non-printable characters written as ``\\x1b``,
        ``\\n``, ``\\u202e`` and so on. A plain space is kept.

    Examples
    --------
    >>> printable("a\\x1b[2Jb")
    'a\\\\x1b[2Jb'
    >>> printable("x" * 10, limit=4)
    'xxxx…'
    """
    text = str(text)
    out: list[str] = []
    size = 0
    for ch in text:
        piece = ch if (ch == " " or ch.isprintable()) else _escape(ch)
        if limit > 0 and size + len(piece) > limit:
            out.append("…")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)
