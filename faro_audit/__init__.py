"""faro-audit: audit reward models and policies for demographic fairness, certify, retrain.

``import faro_audit`` is light: numpy/scipy/pandas only where used, and never torch or
transformers (those load only in :mod:`faro_audit.models` and :mod:`faro_audit.retrain`).
"""

from __future__ import annotations

from faro_audit._version import __version__
from faro_audit.errors import FaroError, FaroInputError, FaroUsageError

__all__ = ["__version__", "FaroError", "FaroInputError", "FaroUsageError"]
