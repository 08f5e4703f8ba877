"""The sanitiser of data echoed in messages (issue 12)."""

from __future__ import annotations

import pytest

from faro_audit.io.sanitize import printable


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("plain text", "plain text"),
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("line\nbreak\r\t", "line\\nbreak\\r\\t"),
        ("c1\x85\x9b", "c1\\x85\\x9b"),
        ("del\x7f", "del\\x7f"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("sep\u2028x", "sep\\u2028x"),
        ("Ünïcödé 北美", "Ünïcödé 北美"),
        ("C:\\data\\x.csv", "C:\\data\\x.csv"),
    ],
)
def test_control_characters_are_escaped(raw, shown):
    out = printable(raw, limit=0)
    assert out == shown
    assert all(ch.isprintable() for ch in out)


def test_limit_cuts_without_splitting_an_escape():
    assert printable("x" * 100) == "x" * 80 + "…"
    assert printable("ab\x1bcd", limit=4) == "ab…"
    assert printable("short", limit=80) == "short"


def test_non_strings_are_converted():
    assert printable(12) == "12" and printable(None) == "None"
