"""Shared harness of the hostile-input tests (issue 12).

Every hostile case asserts the same three things: the exit code, a one-line error on stderr
with no traceback, and that every input file and directory is byte-identical afterwards (no
file changed, none added or removed inside an input directory).

Use the ``hostile`` fixture::

    def test_x(hostile, tmp_path):
        data = tmp_path / "scores.csv"
        ...
        res = hostile(["certify", str(data), "--group", "g"], inputs=[data], code=2,
                      match="--group")

``subprocess=True`` runs ``python -m faro_audit`` in a child process (needed where the case
is about the process itself: a scorer calling ``sys.exit`` or ``os._exit``, signals, the
terminal). Otherwise the CLI's ``main()`` runs in-process, which is faster; an exception
escaping ``main()`` fails the test, since it would be a traceback for the user.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def snapshot(paths: Iterable[str | os.PathLike[str]]) -> dict[str, str | None]:
    """sha256 of every file under ``paths`` (directories walked); ``None`` for an absent path."""
    out: dict[str, str | None] = {}
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out[f"{p}/"] = "dir"
            for sub in sorted(p.rglob("*")):
                if sub.is_file():
                    out[str(sub)] = hashlib.sha256(sub.read_bytes()).hexdigest()
                elif sub.is_dir():
                    out[f"{sub}/"] = "dir"
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = None
    return out


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def _error_lines(stderr: str) -> list[str]:
    """stderr lines that are not warnings the tool prints on purpose (``DeprecationWarning`` etc.)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and "Warning" not in ln.split(":", 1)[0]]


def run_cli(argv: Sequence[str], *, subprocess_: bool = False, env: dict[str, str] | None = None,
            cwd: str | os.PathLike[str] | None = None, timeout: float = 300) -> Outcome:
    """Run ``faro-audit ARGV`` and return its exit code and output."""
    if subprocess_:
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "faro_audit", *argv], capture_output=True, text=True,
                              env=full_env, cwd=cwd, timeout=timeout)
        return Outcome(proc.returncode, proc.stdout, proc.stderr)
    from faro_audit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse usage errors exit 2 by SystemExit
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    return Outcome(int(code), out.getvalue(), err.getvalue())


@pytest.fixture
def hostile() -> Callable[..., Outcome]:
    """``hostile(argv, inputs=[...], code=2, match=None, subprocess=False)`` → :class:`Outcome`.

    Asserts the exit code; for code 2, exactly one error line on stderr, naming ``match`` when
    given, and no traceback; and that every path in ``inputs`` is unchanged.
    """

    def check(argv: Sequence[str], *, inputs: Iterable[str | os.PathLike[str]] = (), code: int = 2,
              match: str | None = None, subprocess: bool = False, env: dict[str, str] | None = None,
              cwd: str | os.PathLike[str] | None = None) -> Outcome:
        inputs = list(inputs)
        before = snapshot(inputs)
        res = run_cli(argv, subprocess_=subprocess, env=env, cwd=cwd)
        after = snapshot(inputs)
        assert "Traceback" not in res.stderr, res.stderr[-3000:]
        assert res.code == code, f"exit {res.code}, expected {code}\nstdout: {res.stdout[-1500:]}\nstderr: {res.stderr[-1500:]}"
        if code == 2:
            lines = _error_lines(res.stderr)
            assert len(lines) == 1, f"expected a one-line error, got {len(lines)} lines:\n{res.stderr[-2000:]}"
            if match is not None:
                assert match in lines[0], f"{match!r} not in the error: {lines[0]!r}"
            assert all(ch == "\t" or ord(ch) >= 32 for ch in lines[0]), f"control characters in {lines[0]!r}"
        assert before == after, "an input file or directory changed: " + ", ".join(
            k for k in set(before) | set(after) if before.get(k) != after.get(k))
        return res

    return check
