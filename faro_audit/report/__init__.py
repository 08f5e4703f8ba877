"""Presentation: the report, rendered only from an :class:`~faro_audit.audit.result.AuditResult`.

- :func:`write_report` writes ``report.html``, ``report.json``, ``junit.xml``, ``summary.md``;
- :func:`render_html`, :func:`render_json`, :func:`render_junit`, :func:`render_markdown`,
  :func:`render_text` return each one as a string.

Importing this package does not import matplotlib (figures import it when drawn).
"""

from __future__ import annotations

from faro_audit.report.html import render_html
from faro_audit.report.junit import render_junit
from faro_audit.report.markdown import render_markdown
from faro_audit.report.text import render_text
from faro_audit.report.writer import render_json, write_report

__all__ = [
    "render_html",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
    "write_report",
]
