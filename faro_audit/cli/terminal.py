"""Text printed to the terminal: no control characters from the data.

An error message may quote a column header, a group label or a file name taken from the
input. Printed raw, an ESC sequence in it could retitle, recolour or clear the user's terminal
and hide the error. :func:`safe_text` escapes C0 and C1 control characters (and DEL) the way
``repr`` does (``\\x1b``, ``\\x9b``, ``\\r``); a tab becomes a space.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["print_error", "safe_text"]

_TABLE = {i: f"\\x{i:02x}" for i in (*range(0x20), *range(0x7F, 0xA0))}
_TABLE.update({0x09: " ", 0x0A: " ", 0x0D: "\\r"})
for _cp in (0x2028, 0x2029, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F):
    _TABLE[_cp] = f"\\u{_cp:04x}"  # line separators and bidi overrides reorder what is shown


def safe_text(text: object) -> str:
    """``str(text)`` with every control character escaped (one printable line)."""
    return str(text).translate(_TABLE)


def print_error(command: str, message: object, *, file: TextIO | None = None) -> None:
    """Print ``faro-audit COMMAND: error: MESSAGE`` as one sanitised line on stderr."""
    print(f"faro-audit {command}: error: {safe_text(message)}", file=file or sys.stderr, flush=True)
