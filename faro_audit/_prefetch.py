"""Import what comes after scoring on a background thread while the model is being scored.

Scoring a model spends its time in torch kernels, which release the GIL; the modules the audit
and the report need next (scipy.stats, statsmodels, matplotlib, the report's templates) take
seconds to import, which is Python work. Doing those imports on a daemon thread during scoring
overlaps the two. Python's per-module import locks make a concurrent import of the same module
wait for the first one, so the main thread always sees a fully initialised module; anything that
fails here is simply done again (and its error raised) by the main thread.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence

__all__ = ["AUDIT_MODULES", "REPORT_MODULES", "prefetch"]

#: What `certify` and `report` import after scoring, heaviest first.
AUDIT_MODULES: tuple[str, ...] = (
    "scipy.stats",
    "statsmodels.stats.multitest",
    "statsmodels.stats.proportion",
    "faro_audit.audit.run",
)

#: What `report` imports on top of :data:`AUDIT_MODULES` (matplotlib is the largest part).
REPORT_MODULES: tuple[str, ...] = (
    "faro_audit.report.figures_groups",
    "faro_audit.report.figures_calibration",
    "faro_audit.report.figures_distributions",
    "faro_audit.report.writer",
)


def _work(modules: Sequence[str], templates: bool) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the main thread imports it again and reports
            pass
    if templates:
        try:
            from faro_audit.report.html import preload_templates

            preload_templates()
        except Exception:  # noqa: BLE001 - render_html compiles them itself
            pass


def prefetch(*, report: bool = False) -> threading.Thread | None:
    """Start the background imports (and, for ``report``, the template compilation).

    Parameters
    ----------
    report : bool, keyword-only
        Also import the report's figure modules and compile its templates.

    Returns
    -------
    threading.Thread or None
        The daemon thread, or ``None`` when ``FARO_NO_PREFETCH`` is set (for timing
        comparisons and debugging).
    """
    if os.environ.get("FARO_NO_PREFETCH"):
        return None
    modules = AUDIT_MODULES + (REPORT_MODULES if report else ())
    thread = threading.Thread(target=_work, args=(modules, report), name="faro-prefetch", daemon=True)
    thread.start()
    return thread
