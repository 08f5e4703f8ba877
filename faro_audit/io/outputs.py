"""Output paths that never overwrite an input, checked before any work; CSV-safe text cells.

:func:`check_outputs` runs at the start of ``report``, ``certify``, ``score`` and ``retrain``
(and :func:`faro_audit.retrain.retrain`), before anything is scored or trained. It refuses

- an output that resolves (``os.path.realpath``, symlinks followed) to an input, or lies inside
  an input directory (a model directory is never written to), or — for an output directory —
  one of whose files would replace an input (``report X/report.json --out X``);
- an output location that cannot be written: under a regular file, under ``/dev/null``, in a
  directory without write permission, or (``must_exist_parent``) in a missing directory.

:func:`csv_safe` neutralises spreadsheet formulas in CSV outputs (a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``); numbers are untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from faro_audit.errors import FaroUsageError

__all__ = ["FORMULA_PREFIXES", "Output", "check_outputs", "csv_safe", "csv_safe_cell"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Output:
    """One output of a command.

    Attributes
    ----------
    option : str
        The option that names it, e.g. ``"--out"``.
    path : str
        The path given.
    is_dir : bool
        An output directory (created with its parents) rather than a file.
    files : tuple of str
        File names written inside an output directory (empty: the directory is new as a whole).
    must_exist_parent : bool
        A file whose directory must exist already (it is not created).
    """

    option: str
    path: str
    is_dir: bool = False
    files: tuple[str, ...] = ()
    must_exist_parent: bool = False


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.expanduser(os.fspath(path)))


def _inside(child: str, parent: str) -> bool:
    """``child`` is ``parent`` or lies under it (both real paths)."""
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def _writable(out: Output) -> None:
    """Refuse an output location that cannot be written, naming what is in the way."""
    p = _real(out.path)
    if os.path.exists(p):
        if out.is_dir and not os.path.isdir(p):
            raise FaroUsageError(f"{out.option} {out.path}: exists and is not a directory; "
                                 "choose a directory path")
        if not out.is_dir and os.path.isdir(p):
            raise FaroUsageError(f"{out.option} {out.path}: is a directory; give a file name")
        if not out.is_dir and not os.path.isfile(p):
            raise FaroUsageError(f"{out.option} {out.path}: is not a regular file (a device or "
                                 "pipe); give a file path")
    here = p if (out.is_dir and os.path.isdir(p)) else os.path.dirname(p)
    if out.must_exist_parent and not os.path.isdir(here):
        raise FaroUsageError(f"{out.option} {out.path}: directory {os.path.dirname(out.path) or '.'} "
                             "does not exist; create it first")
    while not os.path.exists(here):  # the first ancestor that exists is what gets written into
        here = os.path.dirname(here)
    if not os.path.isdir(here):
        raise FaroUsageError(f"{out.option} {out.path}: {here} is a file, not a directory, so "
                             "nothing can be written under it; choose another path")
    if not os.access(here, os.W_OK | os.X_OK):
        raise FaroUsageError(f"{out.option} {out.path}: directory {here} is not writable; "
                             "choose a directory you can write to")


def _targets(out: Output) -> list[str]:
    """The real paths ``out`` writes (a directory's files, or the path itself)."""
    p = _real(out.path)
    return [os.path.join(p, f) for f in out.files] if out.is_dir and out.files else [p]


def check_outputs(outputs: Iterable[Output], inputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Refuse outputs that would overwrite or write into an input, or cannot be written.

    Parameters
    ----------
    outputs : iterable of Output
        What the command will write.
    inputs : mapping
        Label → path of every input (``"--data"``, ``"TARGET model directory"``,
        ``"faro.toml"``, ``"--manifest"``, ``"--ref-model"``, …); ``None`` values are skipped,
        and so are paths that do not exist (nothing to overwrite).

    Raises
    ------
    FaroUsageError
        One line naming the option, the path, the input it collides with and the fix.
    """
    real_inputs = [(label, str(path), _real(path)) for label, path in inputs.items()
                   if path is not None and os.path.exists(_real(path))]
    for out in outputs:
        root = _real(out.path)
        for label, given, rin in real_inputs:
            hit = None
            if _inside(root, rin) and (os.path.isdir(rin) or root == rin):
                hit = "is" if root == rin else "lies inside"
            elif out.is_dir and not out.files and _inside(rin, root):
                hit = "contains"
            elif any(t == rin for t in _targets(out)):
                hit = "would overwrite"
            if hit is None:
                continue
            what = {"is": "is the same path as", "lies inside": "lies inside",
                    "contains": "contains", "would overwrite": "would overwrite"}[hit]
            raise FaroUsageError(
                f"{out.option} {out.path}: {what} the input {label} {given}; inputs are never "
                f"written to, so choose an {out.option} outside every input"
            )
        _writable(out)


def csv_safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells are neutralised with :func:`csv_safe_cell`.

    Only columns of object or string dtype are touched; numbers (``-1.5``) stay numbers.
    The frame passed in is not modified.
    """
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if is_object_dtype(dtype) or is_string_dtype(dtype):
            out[col] = out[col].map(csv_safe_cell, na_action="ignore")
    if any(isinstance(c, str) and c.startswith(FORMULA_PREFIXES) for c in out.columns):
        out.columns = [csv_safe_cell(c) for c in out.columns]
    return out
