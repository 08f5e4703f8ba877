"""Write the report files: ``report.html``, ``report.json``, ``junit.xml``, ``summary.md``.

Each file is written atomically: to a temporary file in the output directory, flushed and
synced, then moved over the target with :func:`os.replace`, so a reader (or a crash) never sees
a half-written report.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from faro_audit.audit.result import AuditResult
from faro_audit.errors import FaroUsageError

#: Format name → file name.
FILENAMES: dict[str, str] = {
    "html": "report.html",
    "json": "report.json",
    "junit": "junit.xml",
    "md": "summary.md",
}
DEFAULT_FORMATS: tuple[str, ...] = ("html", "json", "junit", "md")


def render_json(result: AuditResult) -> str:
    """``report.json``: :meth:`AuditResult.to_dict` as strict JSON (no NaN), UTF-8, indented."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _renderers() -> dict[str, Callable[[AuditResult], str]]:
    from faro_audit.report.html import render_html
    from faro_audit.report.junit import render_junit
    from faro_audit.report.markdown import render_markdown

    return {"html": render_html, "json": render_json, "junit": render_junit,
            "md": render_markdown}


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file + ``os.replace``)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_report(result: AuditResult, out_dir: str | os.PathLike[str], *,
                 formats: Iterable[str] = DEFAULT_FORMATS) -> dict[str, Path]:
    """Render ``result`` in each of ``formats`` and write the files into ``out_dir``.

    Parameters
    ----------
    result
        The audit result.
    out_dir
        Output directory; created (with parents) if missing.
    formats
        Any of ``"html"``, ``"json"``, ``"junit"``, ``"md"`` (default: all four).

    Returns
    -------
    dict[str, Path]
        Format name → the path written.

    Raises
    ------
    FaroUsageError
        An unknown format, or ``out_dir`` exists and is not a directory.
    """
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FILENAMES]
    if unknown:
        raise FaroUsageError(
            f"formats: unknown report format(s) {', '.join(map(repr, unknown))}; "
            f"choose from {', '.join(FILENAMES)}"
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FaroUsageError(f"out_dir: {out} exists and is not a directory; pick another --out")
    # Render everything before writing anything, so a rendering error leaves no partial set.
    renderers = _renderers()
    texts = {f: renderers[f](result) for f in wanted}
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for f in wanted:
        path = out / FILENAMES[f]
        atomic_write_text(path, texts[f])
        written[f] = path
    return written
